"""Every simulator endpoint answers in the shape of the vendor's own OpenAPI schemas (../shared/hwa)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.tws.conftest import SIM_PASSWORD, SIM_USER
from tws.hwa.ids import is_job_id, path_segment
from tws.simulator.threaded import ThreadedSimulator

HWA = Path(settings.BASE_DIR).parent / "shared" / "hwa"
pytestmark = pytest.mark.skipif(
    not (HWA / "openapi-v2-subset.json").exists(),
    reason=f"the HWA OpenAPI subsets are not at {HWA} (CI has ../shared beside the checkout)",
)


def _spec(name: str) -> dict[str, Any]:
    return json.loads((HWA / name).read_text())


def _schema_of(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = spec["paths"][path][method]["responses"][status].get("content", {})
    media = content.get("application/json") or next(iter(content.values()))
    return media["schema"]


def _validate(spec: dict[str, Any], uri: str, path: str, method: str, status: str, body: Any) -> None:
    schema = _schema_of(spec, path, method, status)
    rewritten = json.loads(json.dumps(schema).replace('"#/', f'"{uri}#/'))
    registry: Registry = Registry().with_resource(uri, Resource.from_contents(spec, default_specification=DRAFT202012))
    errors = sorted(Draft202012Validator(rewritten, registry=registry).iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.fixture
def http(sim: ThreadedSimulator) -> httpx.Client:
    return httpx.Client(base_url=sim.url, auth=(SIM_USER, SIM_PASSWORD), timeout=10)


def test_every_v2_endpoint_validates_against_the_v2_schemas(sim: ThreadedSimulator, http: httpx.Client) -> None:
    spec, uri = _spec("openapi-v2-subset.json"), "urn:hwa:v2"
    plan = sim.server.plan
    ended = next(j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR"))
    held = next(j for j in plan.jobs if plan.state(j).common not in ("HELD",))
    ws, js = plan.workstations[0], plan.streams[0]
    v2 = "/twsd/api/v2"
    calls = [
        ("get", "/twsd/api/v2/engine/info", f"{v2}/engine/info", None),
        ("get", "/twsd/api/v2/plan/job", f"{v2}/plan/job?limit=25&offset=5", None),
        ("get", "/twsd/api/v2/plan/job/count", f"{v2}/plan/job/count?grouping_filters=status", None),
        ("get", "/twsd/api/v2/plan/job/{job_id}", f"{v2}/plan/job/{ended.id}", None),
        ("get", "/twsd/api/v2/plan/jobstream", f"{v2}/plan/jobstream?limit=10", None),
        ("get", "/twsd/api/v2/plan/jobstream/{jobstream_id}", f"{v2}/plan/jobstream/{js.id}", None),
        ("get", "/twsd/api/v2/plan/workstation", f"{v2}/plan/workstation", None),
        ("get", "/twsd/api/v2/plan/workstation/{workstation_id}", f"{v2}/plan/workstation/{ws.id}", None),
        ("put", "/twsd/api/v2/plan/job/{job_id}/action/hold", f"{v2}/plan/job/{held.id}/action/hold", {}),
        ("put", "/twsd/api/v2/plan/job/{job_id}/action/release", f"{v2}/plan/job/{held.id}/action/release", {}),
        ("put", "/twsd/api/v2/plan/job/{job_id}/action/cancel", f"{v2}/plan/job/{held.id}/action/cancel", {}),
        (
            "put",
            "/twsd/api/v2/plan/job/run/{run_id}/action/rerun",
            f"{v2}/plan/job/run/{ended.run_ids[-1]}/action/rerun",
            {},
        ),
    ]
    running = next((j for j in plan.jobs if plan.state(j).common == "RUNNING"), None)
    if running is not None:
        calls.append(
            ("put", "/twsd/api/v2/plan/job/{job_id}/action/kill", f"{v2}/plan/job/{running.id}/action/kill", {})
        )
    for method, spec_path, url, body in calls:
        response = http.request(method.upper(), url, json=body)
        assert response.status_code == 200, (url, response.text)
        _validate(spec, uri, spec_path, method, "200", response.json())
    for url in (f"{v2}/plan/job/joblog?oql=id = '{ended.id}'", f"{v2}/plan/job/run/{ended.run_ids[0]}/joblog"):
        response = http.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert ended.name in response.text


def test_every_v1_endpoint_validates_against_the_v1_schemas(sim: ThreadedSimulator, http: httpx.Client) -> None:
    spec, uri = _spec("openapi-v1-subset.json"), "urn:hwa:v1"
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common not in ("HELD", "RUNNING"))
    job_path = f"/twsd/plan/current/job/{path_segment(job.v1_id)}"
    checks = [
        ("get", "/engine/info", "/twsd/engine/info", None),
        ("post", "/plan/{planId}/job/query", "/twsd/plan/current/job/query", {"filters": {"jobInPlanFilter": {}}}),
        ("post", "/plan/{planId}/jobstream/query", "/twsd/plan/current/jobstream/query", {}),
        ("get", "/plan/{planId}/job/{jobId}", job_path, None),
        ("get", "/plan/{planId}/job/{jobId}/joblog", f"{job_path}/joblog", None),
    ]
    for method, spec_path, url, body in checks:
        response = http.request(method.upper(), url, json=body, headers={"How-Many": "50"})
        assert response.status_code == 200, (url, response.text)
        _validate(spec, uri, spec_path, method, "200", response.json())
    for action in ("hold", "release", "cancel"):
        response = http.put(f"{job_path}/action/{action}", json={})
        assert response.status_code == 202, response.text
        assert response.content == b""


def test_the_simulator_implements_every_path_of_both_subsets(sim: ThreadedSimulator) -> None:
    app = sim.server.build_app()
    served = {r.resource.canonical for r in app.router.routes() if r.resource is not None}  # type: ignore[union-attr]
    normalise = lambda p: p.replace("{job_id}", "{}").replace("{run_id}", "{}").replace("{jobstream_id}", "{}")  # noqa: E731
    served_norm = {normalise(s).replace("{workstation_id}", "{}").replace("{plan_id}", "{}") for s in served}
    for name, prefix in (("openapi-v2-subset.json", ""), ("openapi-v1-subset.json", "/twsd")):
        for path in _spec(name)["paths"]:
            wanted = (prefix + path).replace("{planId}", "{}").replace("{jobId}", "{}")
            wanted = normalise(wanted).replace("{workstation_id}", "{}")
            action = wanted.rsplit("/", 1)[-1]
            if "/action/" in wanted and action in ("hold", "release", "kill", "cancel"):
                wanted = wanted.rsplit("/", 1)[0] + "/{action}"
            assert wanted in served_norm, f"{prefix}{path} is in the spec but not served"


def test_the_schema_check_rejects_a_wrong_status() -> None:
    spec = _spec("openapi-v2-subset.json")
    with pytest.raises(AssertionError, match="FINISHED"):
        _validate(
            spec, "urn:hwa:v2", "/twsd/api/v2/plan/job/{job_id}", "get", "200", {"lastRunCommonStatus": "FINISHED"}
        )


def test_errors_carry_hwa_message_bodies(sim: ThreadedSimulator, http: httpx.Client) -> None:
    missing = http.get("/twsd/api/v2/plan/job/no-such-job")
    assert missing.status_code == 404
    assert missing.json()["messages"][0].startswith("AWS")
    bad = http.get("/twsd/api/v2/plan/job", params={"oql": "colour = 'red'"})
    assert bad.status_code == 400
    assert "AWS" in bad.json()["messages"][0]
    unauth = httpx.get(sim.url + "/twsd/api/v2/engine/info", auth=(SIM_USER, "wrong"))
    assert unauth.status_code == 401
    assert unauth.json()["messages"][0].startswith("AWSJCS")
    plan = sim.server.plan
    waiting = next(j for j in plan.jobs if plan.state(j).common != "HELD")
    conflict = http.put(f"/twsd/api/v2/plan/job/{waiting.id}/action/release", json={})
    assert conflict.status_code == 409
    sim.set_faults(error_500=1.0)
    failed = http.get("/twsd/api/v2/engine/info")
    assert failed.status_code == 500
    assert failed.json()["messages"][0].startswith("AWSJCO")


def test_paging_envelopes_and_how_many(sim: ThreadedSimulator, http: httpx.Client) -> None:
    first = http.get("/twsd/api/v2/plan/job", params={"limit": 100}).json()
    assert first["count"] == 300
    assert len(first["results"]) == 100
    assert "previous" not in first
    second = http.get(first["next"]).json()
    assert second["results"][0]["id"] != first["results"][0]["id"]
    assert "previous" in second
    v1 = http.post("/twsd/plan/current/job/query", json={}, headers={"How-Many": "7", "Context-ObjectCount": "1"})
    assert len(v1.json()) == 7
    assert v1.headers["Context-ObjectCount"] == "300"
    everything = http.post("/twsd/plan/current/job/query", json={}, headers={"How-Many": "0"})
    assert len(everything.json()) == 300


def test_oql_filters_select_what_they_name(sim: ThreadedSimulator, http: httpx.Client) -> None:
    plan = sim.server.plan
    target = plan.jobs[42]
    ws = plan.workstations[target.workstation].name
    by_name = http.get("/twsd/api/v2/plan/job", params={"oql": f"name = '{target.name}'"}).json()
    assert [j["id"] for j in by_name["results"]] == [target.id]
    errors = http.get("/twsd/api/v2/plan/job", params={"oql": "status = 'ERROR'"}).json()["results"]
    assert errors
    assert {j["lastRunCommonStatus"] for j in errors} == {"ERROR"}
    on_ws = http.get("/twsd/api/v2/plan/job", params={"oql": f"workstation = '{ws}'"}).json()["results"]
    assert on_ws
    assert {j["workstation"] for j in on_ws} == {ws}


def test_faults_change_at_run_time_through_the_control_endpoint(sim: ThreadedSimulator, http: httpx.Client) -> None:
    changed = httpx.put(sim.url + "/_sim/faults", json={"503": 1.0}).json()
    assert changed["error_503"] == 1.0
    assert http.get("/twsd/api/v2/engine/info").status_code == 503
    httpx.put(sim.url + "/_sim/faults", json={"reset_all": True})
    assert http.get("/twsd/api/v2/engine/info").status_code == 200
    assert httpx.put(sim.url + "/_sim/faults", json={"503": 3}).status_code == 400


def test_jobs_move_through_their_states_over_time() -> None:
    from tws.simulator.plan import SimPlan

    plan = SimPlan(jobs=500, seed=3)
    job = next(j for j in plan.jobs if j.outcome == "succ" and j.ready_at > 0)
    seen = [
        plan.state(job, t).common
        for t in (job.ready_at - 1, job.ready_at + 0.001, job.start_at + 0.1, job.start_at + job.duration + 1)
    ]
    assert seen == ["WAITING", "READY", "RUNNING", "SUCCESSFUL"]
    assert [j.id for j in SimPlan(jobs=500, seed=3).jobs] == [j.id for j in plan.jobs]  # same seed, same plan


def test_fast_text_rendering_equals_the_dict_rendering() -> None:
    from tws.simulator import render
    from tws.simulator.plan import SimPlan

    plan = SimPlan(jobs=400, seed=9)
    plan.rerun(plan.jobs[3])
    plan.hold(plan.jobs[4])
    for job in plan.jobs:
        assert json.loads(render.job_v2_text(plan, job)) == render.job_v2(plan, job)
        assert json.loads(render.job_v1_text(plan, job)) == render.job_v1(plan, job)


def test_ids_take_hwas_forms_v1_composite_v2_uuid(sim: ThreadedSimulator, http: httpx.Client) -> None:
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common not in ("HELD", "RUNNING"))
    stream, stream_ws = plan.streams[job.stream], plan.workstations[plan.streams[job.stream].workstation].name
    v1 = http.post("/twsd/plan/current/job/query", json={"filters": {"jobInPlanFilter": {"jobId": job.v1_id}}}).json()
    assert [j["id"] for j in v1] == [f"{stream_ws};{stream.jsid};{job.name}"]
    assert v1[0]["jobStreamId"] == v1[0]["jobStreamInPlan"]["id"] == stream.jsid
    assert stream.jsid.isalnum()
    assert len(stream.jsid) == 16
    assert v1[0]["actualKey"] == f"{stream_ws}#{stream.name}.{job.name}"
    streams = http.post("/twsd/plan/current/jobstream/query", json={}, headers={"How-Many": "0"}).json()
    assert {s["actualKey"] for s in streams} >= {f"{stream_ws}#{stream.jsid}"}
    v2 = http.get(f"/twsd/api/v2/plan/job/{job.id}").json()
    assert (v2["id"], v2["jobStreamId"]) == (job.id, stream.id)
    assert [is_job_id(v2["id"]), is_job_id(v1[0]["id"])] == [True, True]
    assert v2["id"].count("-") == 4
    encoded = f"/twsd/plan/current/job/{path_segment(job.v1_id)}"
    for method, path in (("GET", encoded), ("GET", f"{encoded}/joblog"), ("PUT", f"{encoded}/action/hold")):
        answer = http.request(method, path, json={} if method == "PUT" else None)
        assert answer.status_code in (200, 202), (path, answer.text)
    assert http.get(f"{encoded}/joblog").json()["jobId"] == job.v1_id
    http.put(f"{encoded}/action/release", json={})
    for wrong in (f"/twsd/plan/current/job/{job.id}", f"/twsd/api/v2/plan/job/{path_segment(job.v1_id)}"):
        refused = http.get(wrong)  # each API answers for its own form only
        assert refused.status_code == 404
        assert refused.json()["messages"][0].startswith("AWSJPL506E")
