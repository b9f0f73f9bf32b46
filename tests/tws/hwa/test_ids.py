"""HWA ids travel as one percent-encoded path segment: HCL's own requests work, nothing else is ever addressed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws.exceptions import TWSNotFoundError
from tws.hwa.adapter_v2 import OptimizedTWSClientAdapter
from tws.hwa.http import TWSTransport
from tws.hwa.ids import is_job_id, path_segment
from tws.hwa.legacy import LegacyTWSClient
from tws.simulator.threaded import ThreadedSimulator

# Characters that end, split or re-read a path segment, alone and in the places an id has parts.
HOSTILE = [
    "AG_RJ000;0AAAAAAAAAA00004",
    "AG_RJ000#0AAAAAAAAAA00004",
    "AG_RJ000#JS_BATCH_00003.JOB_000043",
    "AG_RJ000/0AAAAAAAAAA00004/JOB_000043",
    "..",
    ".",
    "../../engine/info",
    "JOB?oql=id = 'x'",
    "JOB%3F",
    "100%",
    "%2E%2E",
    "a;b#c/d..e?f%g",
]


@pytest.fixture
async def pair(sim: ThreadedSimulator) -> AsyncIterator[tuple[OptimizedTWSClientAdapter, LegacyTWSClient]]:
    transport = TWSTransport(fast_settings(sim.url))
    await transport.open()
    yield OptimizedTWSClientAdapter(transport), LegacyTWSClient(transport)
    await transport.close()


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("AG_RJ000;0AAAAAAAAAA00004;JOB_000043", "AG_RJ000%3B0AAAAAAAAAA00004%3BJOB_000043"),
        ("WS#JS.JOB", "WS%23JS.JOB"),
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a..b", "a..b"),
        ("x?y=1&z", "x%3Fy%3D1%26z"),
        ("100%", "100%25"),
        ("%3B", "%253B"),
        ("d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c", "d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c"),
    ],
)
def test_path_segment_leaves_only_unreserved_characters(value: str, segment: str) -> None:
    assert path_segment(value) == segment


def test_an_empty_id_is_never_a_segment() -> None:
    with pytest.raises(ValueError, match="never empty"):
        path_segment("")


def test_job_id_shapes_are_exactly_hwas() -> None:
    good = ["AG_RJ000;0AAAAAAAAAA00004;JOB_000043", "W;0123456789abcdef;J", "d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c"]
    bad = [*HOSTILE, "", "W;0123456789abcdef;J\n", "W;0123456789abcdef;" + "J" * 41, "W" * 17 + ";0123456789abcdef;J"]
    assert [is_job_id(v) for v in good] == [True] * len(good)
    assert [v for v in bad if is_job_id(v)] == []


def test_hcls_shell_sample_rerun_is_answered_as_hwa_would(sim: ThreadedSimulator) -> None:
    """Replay WorkloadAutomation/TWS_REST_API_Shell_script_samples shell_script/jobRerun.sh byte for byte."""
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR"))
    workstation, jobstream_id, job_name = job.v1_id.split(";")
    # curl -X PUT --header 'Content-Type: application/json' --header 'Accept: application/json' -d '{}'
    #   'https://'$TWS_HOST':31116/twsd/plan/current/job/'$WORKSTATION_NAME'%3B'$JS_ID'%3B'$JOB_NAME'/action/rerun'
    url = f"{sim.url}/twsd/plan/current/job/{workstation}%3B{jobstream_id}%3B{job_name}/action/rerun"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    before = job.run_number
    done = httpx.put(url, content=b"{}", headers=headers, auth=(SIM_USER, SIM_PASSWORD))
    assert done.status_code == 202, done.text
    assert done.content == b""
    assert job.run_number == before + 1
    assert sim.requests()[-1].raw_path == url.removeprefix(sim.url)
    missing = httpx.put(
        url.replace(job_name, "NO_SUCH_JOB"), content=b"{}", headers=headers, auth=(SIM_USER, SIM_PASSWORD)
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert json.loads(missing.text) == {
        "messages": [f'AWSJPL506E The job "{workstation};{jobstream_id};NO_SUCH_JOB" was not found in the plan.']
    }


def test_an_unencoded_semicolon_is_cut_as_a_servlet_container_cuts_it(sim: ThreadedSimulator) -> None:
    job = sim.server.plan.jobs[0]
    raw = httpx.get(f"{sim.url}/twsd/plan/current/job/{job.v1_id}", auth=(SIM_USER, SIM_PASSWORD))
    assert raw.status_code == 404
    assert f'"{job.v1_id.split(";")[0]}"' in raw.json()["messages"][0]


async def test_hostile_ids_address_nothing_but_the_id_itself(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    states = [plan.state(j) for j in plan.jobs]
    runs = [j.run_number for j in plan.jobs]
    prefixes = {v2: "/twsd/api/v2/plan/job/", v1: "/twsd/plan/current/job/"}
    for client, prefix in prefixes.items():
        for bad in HOSTILE:
            sim.server.requests.clear()
            with pytest.raises(TWSNotFoundError):
                await client.get_job(bad)
            for action in ("hold", "cancel", "kill"):
                with pytest.raises(TWSNotFoundError):
                    await client.act(bad, action)  # type: ignore[arg-type]
            sent = sim.requests()
            assert len(sent) == 4, (bad, [r.raw_path for r in sent])
            segment = path_segment(bad)
            tails = ["", "/action/hold", "/action/cancel", "/action/kill"]
            assert [r.raw_path.split("?")[0] for r in sent] == [prefix + segment + tail for tail in tails]
            assert [r.path for r in sent] == [prefix + bad + tail for tail in tails]  # decoded: the id, whole
            assert {r.outcome for r in sent} == {"404"}
    assert [plan.state(j) for j in plan.jobs] == states
    assert [j.run_number for j in plan.jobs] == runs


async def test_each_client_reaches_the_job_by_its_own_apis_id(
    sim: ThreadedSimulator, pair: tuple[OptimizedTWSClientAdapter, LegacyTWSClient]
) -> None:
    v2, v1 = pair
    plan = sim.server.plan
    job, other = [j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR")][:2]
    before = (job.run_number, other.run_number)
    sim.server.requests.clear()
    await v1.act(job.v1_id, "rerun")
    await v1.get_joblog(job.v1_id)
    await v2.act(other.id, "rerun")
    paths = [(r.method, r.raw_path.split("?")[0]) for r in sim.requests()]
    composite = job.v1_id.replace(";", "%3B")
    assert paths == [
        ("PUT", f"/twsd/plan/current/job/{composite}/action/rerun"),
        ("GET", f"/twsd/plan/current/job/{composite}/joblog"),
        ("GET", f"/twsd/api/v2/plan/job/{other.id}"),
        ("PUT", f"/twsd/api/v2/plan/job/run/{other.run_ids[-2]}/action/rerun"),
    ]
    assert (job.run_number, other.run_number) == (before[0] + 1, before[1] + 1)


def test_the_job_id_columns_hold_the_longest_id() -> None:
    from tws.hwa.ids import JOB_ID_MAX_LENGTH
    from tws.models import JobInPlan, JobStatusTransition

    longest = "W" * 16 + ";" + "0" * 16 + ";" + "J" * 40
    assert is_job_id(longest)
    assert len(longest) == JOB_ID_MAX_LENGTH
    assert JobInPlan._meta.get_field("hwa_id").max_length == JOB_ID_MAX_LENGTH
    assert JobStatusTransition._meta.get_field("job_hwa_id").max_length == JOB_ID_MAX_LENGTH


def test_api_of_names_the_api_that_issued_an_id() -> None:
    from tws.hwa.ids import api_of

    assert api_of("d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c") == "v2"
    assert api_of("AG_RJ000;0AAAAAAAAAA00004;JOB_000043") == "v1"
    assert [api_of(v) for v in HOSTILE] == [None] * len(HOSTILE)
