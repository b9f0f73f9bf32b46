"""The simulator answers like HWA where clients notice: wildcards in name filters, limit=0, How-Many rules."""

from __future__ import annotations

import httpx
import pytest

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tests.tws.test_simulator_contract import HWA, _spec, _validate
from tws.hwa.adapter_v2 import oql_of
from tws.hwa.client import UnifiedTWSClient
from tws.hwa.contract import JobFilter
from tws.simulator.threaded import ThreadedSimulator

QUERY = "/twsd/plan/current/job/query"
V2_SPEC = pytest.mark.skipif(not (HWA / "openapi-v2-subset.json").exists(), reason=f"no HWA OpenAPI subsets at {HWA}")


@pytest.fixture
def http(sim: ThreadedSimulator) -> httpx.Client:
    return httpx.Client(base_url=sim.url, auth=(SIM_USER, SIM_PASSWORD), timeout=10)


def _v1(http: httpx.Client, **flt: str) -> set[str]:
    answer = http.post(QUERY, json={"filters": {"jobInPlanFilter": flt}}, headers={"How-Many": "0"})
    assert answer.status_code == 200
    return {j["name"] for j in answer.json()}


def test_v1_name_filters_take_the_asterisk_and_the_at_sign_on_every_name(
    sim: ThreadedSimulator, http: httpx.Client
) -> None:
    plan = sim.server.plan
    target = plan.jobs[17]
    ws, js = plan.workstations[target.workstation].name, plan.streams[target.stream].name
    everyone = {j.name for j in plan.jobs}
    assert _v1(http, jobName="*") == everyone  # HWA answers the whole plan, not an empty list
    assert _v1(http, jobName=target.name[:-2] + "*") >= {target.name}
    assert _v1(http, jobName=target.name[:-2] + "@") == _v1(http, jobName=target.name[:-2] + "*")
    on_ws = {j.name for j in plan.jobs if plan.workstations[j.workstation].name == ws}
    assert _v1(http, workstationName=ws[:3] + "*") >= on_ws
    assert _v1(http, workstationName=ws) == on_ws
    in_js = {j.name for j in plan.jobs if plan.streams[j.stream].name == js}
    assert _v1(http, jobStreamName="*" + js[-4:]) >= in_js
    assert target.name in _v1(http, jobName="*", jobStreamName=js, workstationName="*")
    streams = http.post(
        "/twsd/plan/current/jobstream/query",
        json={"filters": {"jobStreamInPlanFilter": {"jobStreamName": js[:4] + "*"}}},
        headers={"How-Many": "0"},
    ).json()
    assert streams
    assert all(s["key"]["name"].startswith(js[:4]) for s in streams)


def test_v2_like_filters_take_both_wildcards_and_the_client_sends_like_for_them(
    sim: ThreadedSimulator, http: httpx.Client
) -> None:
    plan = sim.server.plan
    target = plan.jobs[5]
    ws, js = plan.workstations[target.workstation].name, plan.streams[target.stream].name
    for oql in (f"name LIKE '{target.name[:-1]}*'", f"workstation LIKE '{ws[:2]}@'", f"jobStreamName LIKE '*{js[3:]}'"):
        ids = {j["id"] for j in http.get("/twsd/api/v2/plan/job", params={"oql": oql}).json()["results"]}
        assert target.id in ids, oql
    streams = http.get("/twsd/api/v2/plan/jobstream", params={"oql": f"name LIKE '{js[:5]}*'"}).json()["results"]
    assert js in {s["name"] for s in streams}
    assert oql_of(JobFilter(name="JOB_00*", status="ERROR")) == "name LIKE 'JOB_00*' AND status = 'ERROR'"


async def test_the_unified_client_filters_by_wildcard_through_either_api(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = sim.server.plan
    ws = plan.workstations[0].name
    expected = sum(1 for j in plan.jobs if j.workstation == 0)
    for v2 in ("true", "false"):
        monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", v2)
        async with UnifiedTWSClient(fast_settings(sim.url)) as client:
            page = await client.get_jobs(filters=JobFilter(workstation=ws[:-1] + "*"), limit=1000)
        assert page.total >= expected, v2
        assert {j.workstation[:-1] for j in page.items} == {ws[:-1]}


@V2_SPEC
def test_v2_limit_zero_never_sends_the_client_back_to_the_same_request(http: httpx.Client) -> None:
    spec = _spec("openapi-v2-subset.json")
    for offset in (0, 50):
        body = http.get("/twsd/api/v2/plan/job", params={"limit": 0, "offset": offset}).json()
        _validate(spec, "urn:hwa:v2", "/twsd/api/v2/plan/job", "get", "200", body)
        assert body["results"] == []
        assert body["count"] == 300
        assert "next" not in body
        assert "previous" not in body


@pytest.mark.parametrize(
    "headers",
    [
        {"How-Many": "-1"},
        {"Query-PageSize": "-5"},
        {"How-Many": "10", "Query-PageSize": "10"},
        {"How-Many": "10", "Query-PageNumber": "1"},
    ],
)
def test_v1_refuses_negative_counts_and_exclusive_headers_with_an_hwa_error(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    answer = http.post(QUERY, json={}, headers=headers)
    assert answer.status_code == 400
    messages = answer.json()["messages"]
    assert messages[0].startswith("AWSJQL001E")


@V2_SPEC
def test_an_unlinked_workstation_validates_and_reads_as_unlinked(sim: ThreadedSimulator, http: httpx.Client) -> None:
    from tws.hwa.adapter_v2 import workstation_from_v2

    plan = sim.server.plan
    index = next(i for i in range(len(plan.workstations)) if plan.is_linked(i))
    plan.unlink(index, 600)
    try:
        body = http.get("/twsd/api/v2/plan/workstation").json()
    finally:
        plan.workstations[index].outages.pop()
    _validate(_spec("openapi-v2-subset.json"), "urn:hwa:v2", "/twsd/api/v2/plan/workstation", "get", "200", body)
    states = {w["name"]: workstation_from_v2(w).link_state for w in body["results"]}
    assert states[plan.workstations[index].name] == "unlinked"
    assert "unknown" not in states.values()
