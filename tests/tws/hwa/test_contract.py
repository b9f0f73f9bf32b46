"""The v2 adapter and the legacy v1 client give the same canonical answers for the same plan."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.tws.conftest import fast_settings
from tws.exceptions import TWSConflictError, TWSNotFoundError
from tws.hwa.adapter_v2 import OptimizedTWSClientAdapter, oql_of
from tws.hwa.contract import ITWSUnifiedClient, JobFilter
from tws.hwa.http import TWSTransport
from tws.hwa.legacy import LegacyTWSClient
from tws.simulator.threaded import ThreadedSimulator


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
    assert await v2.get_jobs(limit=limit, offset=offset) == await v1.get_jobs(limit=limit, offset=offset)


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
        assert page2 == await v1.get_jobs(filters=flt, limit=200), flt
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
        assert await v2.get_job(job.id) == await v1.get_job(job.id)
        status = await v2.get_job_status(job.id)
        assert status == await v1.get_job_status(job.id)
        assert status.status == common
        assert (await v2.get_joblog(job.id)).text == (await v1.get_joblog(job.id)).text
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
            await client.act(not_held.id, "release")
    del v2, v1


async def test_actions_change_the_plan_through_both_apis(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    ended = [j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR")][:2]
    for client, job in zip((v2, v1), ended, strict=True):
        before = await client.get_job(job.id)
        await client.act(job.id, "rerun")
        after = await client.get_job(job.id)
        assert after.run_number == before.run_number + 1
        await client.act(job.id, "hold")
        assert (await client.get_job_status(job.id)).status == "HELD"
        await client.act(job.id, "release")
        assert (await client.get_job_status(job.id)).status != "HELD"


def test_oql_quotes_values() -> None:
    assert oql_of(JobFilter(name="O'BRIEN", status="ERROR")) == "name = 'O''BRIEN' AND status = 'ERROR'"
    assert oql_of(None) == ""
