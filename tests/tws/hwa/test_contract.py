"""The v2 adapter and the legacy v1 client give the same canonical answers for the same plan.

Each API names a job its own way (v2: a UUID; v1: ``WORKSTATION;JOBSTREAM_ID;JOBNAME``), so answers
are compared without the ids, and every call addresses the job by the id its own API returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.tws.conftest import fast_settings
from tws.exceptions import TWSConflictError, TWSNotFoundError
from tws.hwa.adapter_v2 import OptimizedTWSClientAdapter, oql_of
from tws.hwa.contract import ITWSUnifiedClient, Job, JobFilter, JobPage
from tws.hwa.http import TWSTransport
from tws.hwa.ids import is_job_id
from tws.hwa.legacy import LegacyTWSClient
from tws.simulator.plan import SimJob
from tws.simulator.threaded import ThreadedSimulator

Client = OptimizedTWSClientAdapter | LegacyTWSClient


def id_in(client: Client, job: SimJob) -> str:
    """Return the id ``client``'s API gives ``job``."""
    return job.id if client.api_version == "v2" else job.v1_id


def same(job: Job) -> dict[str, Any]:
    """Return the job without the ids that differ between the APIs."""
    return job.model_dump(exclude={"id", "job_stream_id"})


def same_page(page: JobPage) -> list[dict[str, Any]]:
    return [same(j) for j in page.items] + [{"total": page.total, "limit": page.limit, "offset": page.offset}]


@pytest.fixture
async def pair(sim: ThreadedSimulator) -> AsyncIterator[tuple[OptimizedTWSClientAdapter, LegacyTWSClient]]:
    transport = TWSTransport(fast_settings(sim.url))
    await transport.open()
    yield OptimizedTWSClientAdapter(transport), LegacyTWSClient(transport)
    await transport.close()


async def test_both_clients_satisfy_the_protocol(pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]) -> None:
    v2, v1 = pair
    assert isinstance(v2, ITWSUnifiedClient)
    assert isinstance(v1, ITWSUnifiedClient)


async def test_same_engine_plan_and_system_status(pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]) -> None:
    v2, v1 = pair
    assert await v2.get_engine_info() == await v1.get_engine_info()
    plan2, plan1 = await v2.get_plan(), await v1.get_plan()
    assert plan2 == plan1
    assert plan2.total == 300
    s2, s1 = await v2.get_system_status(), await v1.get_system_status()
    assert (s2.reachable, s2.engine_version) == (s1.reachable, s1.engine_version) == (True, "10.2.8.0")


@pytest.mark.parametrize(("limit", "offset"), [(25, 0), (25, 50), (10, 7), (500, 0)])
async def test_same_job_pages(pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient], limit: int, offset: int) -> None:
    v2, v1 = pair
    page2, page1 = await v2.get_jobs(limit=limit, offset=offset), await v1.get_jobs(limit=limit, offset=offset)
    assert same_page(page2) == same_page(page1)
    assert all(is_job_id(j.id) for j in page2.items + page1.items)
    assert {j.id.count(";") for j in page1.items} == {2}  # WORKSTATION;JOBSTREAM_ID;JOBNAME


async def test_same_answers_for_each_filter(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    job = plan.jobs[17]
    filters = [
        JobFilter(name=job.name),
        JobFilter(status="ERROR"),
        JobFilter(status="SUCCESSFUL"),
        JobFilter(workstation=plan.workstations[job.workstation].name),
        JobFilter(job_stream=plan.streams[job.stream].name),
        JobFilter(status="SUCCESSFUL", workstation=plan.workstations[0].name),
    ]
    for flt in filters:
        page2 = await v2.get_jobs(filters=flt, limit=200)
        assert same_page(page2) == same_page(await v1.get_jobs(filters=flt, limit=200)), flt
        assert page2.total > 0, flt


async def test_same_job_status_and_log(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    by_status = {}
    for j in plan.jobs:
        by_status.setdefault(plan.state(j).common, j)
    assert {"SUCCESSFUL", "ERROR", "WAITING"} <= set(by_status)
    for common, job in by_status.items():
        one2, one1 = await v2.get_job(job.id), await v1.get_job(job.v1_id)
        assert same(one2) == same(one1)
        assert (one2.id, one1.id) == (job.id, job.v1_id)
        status = await v2.get_job_status(job.id)
        assert status.model_dump(exclude={"job_id"}) == (await v1.get_job_status(job.v1_id)).model_dump(
            exclude={"job_id"}
        )
        assert status.status == common
        assert (await v2.get_joblog(job.id)).text == (await v1.get_joblog(job.v1_id)).text
    error = await v2.get_job(by_status["ERROR"].id)
    assert error.internal_status == "ABEND"
    assert error.return_code not in (None, 0)


async def test_workstations_v1_names_are_those_with_jobs(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    full = await v2.get_workstations()
    derived = await v1.get_workstations()
    assert {w.name for w in derived} <= {w.name for w in full}
    with_jobs = {sim.server.plan.workstations[j.workstation].name for j in sim.server.plan.jobs}
    assert {w.name for w in derived} == with_jobs
    assert {w.link_state for w in full} <= {"linked", "unlinked"}
    assert {w.type for w in full} == {"AGENT", "FTA", "POOL"}


async def test_same_errors_for_unknown_jobs_and_refused_actions(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    for client in pair:
        with pytest.raises(TWSNotFoundError):
            await client.get_job("no-such-job")
    plan = sim.server.plan
    not_held = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL")
    for client in pair:
        with pytest.raises(TWSConflictError):
            await client.act(id_in(client, not_held), "release")
    with pytest.raises(TWSNotFoundError):  # each API answers for its own ids only
        await v1.get_job(not_held.id)
    with pytest.raises(TWSNotFoundError):
        await v2.get_job(not_held.v1_id)


async def test_actions_change_the_plan_through_both_apis(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    ended = [j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR")][:2]
    for client, job in zip((v2, v1), ended, strict=True):
        job_id = id_in(client, job)
        before = await client.get_job(job_id)
        await client.act(job_id, "rerun")
        after = await client.get_job(job_id)
        assert after.run_number == before.run_number + 1
        await client.act(job_id, "hold")
        assert (await client.get_job_status(job_id)).status == "HELD"
        await client.act(job_id, "release")
        assert (await client.get_job_status(job_id)).status != "HELD"


def test_oql_quotes_values() -> None:
    assert oql_of(JobFilter(name="O'BRIEN", status="ERROR")) == "name = 'O''BRIEN' AND status = 'ERROR'"
    assert oql_of(None) == ""
