"""/api/tws/jobs/{hwa_id}: HWA's composite v1 ids work percent-encoded; any other shape is a 422 naming hwa_id."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.tws.conftest import client_env, fast_settings
from tws.hwa.ids import path_segment
from tws.models import JobInPlan
from tws.services import plan_sync
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db

# Each would address something other than one job if it reached a URL unencoded.
NOT_IDS = [
    "nope",
    "..",
    ".",
    "AG_RJ000;0AAAAAAAAAA00004",  # a job stream, not a job
    "AG_RJ000;0AAAAAAAAAA00004;JOB_000043;X",
    "AG_RJ000;SHORT;JOB_000043",
    "AG_RJ000#JS_BATCH_00003.JOB_000043",  # the key, not the id
    "AG_RJ000;0AAAAAAAAAA00004;JOB_000043?x=1",
    "AG_RJ000;0AAAAAAAAAA00004;JOB_0000%43",
    "AG_RJ000;0AAAAAAAAAA00004;../../engine",
    "AG_RJ000/0AAAAAAAAAA00004/JOB_000043",
    "1;0AAAAAAAAAA00004;JOB_000043",
    "AG_RJ000;0AAAAAAAAAA00004;" + "J" * 41,
    "d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c-0000",
]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator) -> None:
    client_env(monkeypatch, settings, sim, v2=False)  # the legacy v1 client: composite ids


@pytest.fixture
def synced(sim: ThreadedSimulator) -> ThreadedSimulator:
    assert plan_sync(settings=fast_settings(sim.url)).ok
    return sim


def test_jobs_synced_over_v1_carry_composite_ids_that_the_api_serves(
    viewer_client: Client, synced: ThreadedSimulator
) -> None:
    plan = synced.server.plan
    job = plan.jobs[12]
    assert JobInPlan.objects.filter(hwa_id=job.v1_id).exists()
    url = f"/api/tws/jobs/{quote(job.v1_id, safe='')}"
    assert "%3B" in url
    body = viewer_client.get(url).json()
    assert (body["hwa_id"], body["name"]) == (job.v1_id, job.name)
    synced.server.requests.clear()
    assert viewer_client.get(f"{url}/status").json()["status"] == plan.state(job).common
    assert job.name in viewer_client.get(f"{url}/joblog").json()["text"]
    sent = [r.raw_path for r in synced.requests("/plan/current/job/")]
    assert sent == [f"/twsd/plan/current/job/{path_segment(job.v1_id)}", f"{sent[0]}/joblog"]
    missing = viewer_client.get(f"/api/tws/jobs/{quote(job.v1_id[:-1] + 'Z', safe='')}")
    assert (missing.status_code, missing.json()["code"]) == (404, "job_not_found")


# The async view records its audit entry from a pool thread with its own connection (see test_api.py).
@pytest.mark.django_db(transaction=True)
def test_an_action_on_a_composite_id_reaches_that_job_only(operator_client: Client, synced: ThreadedSimulator) -> None:
    from audit.testing import recorded_entries

    plan = synced.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR"))
    runs = {j.v1_id: j.run_number for j in plan.jobs}
    synced.server.requests.clear()
    done = operator_client.post(f"/api/tws/jobs/{quote(job.v1_id, safe='')}/actions/rerun")
    assert done.status_code == 202, done.json()
    assert done.json() == {"job": job.v1_id, "action": "rerun"}
    assert [(r.method, r.raw_path) for r in synced.requests("/plan/")] == [
        ("PUT", f"/twsd/plan/current/job/{job.v1_id.replace(';', '%3B')}/action/rerun")
    ]
    assert {k: v - runs[k] for k, v in ((j.v1_id, j.run_number) for j in plan.jobs) if v != runs[k]} == {job.v1_id: 1}
    assert recorded_entries(action="tws_job.rerun")[-1]["target"] == f"tws_job:{job.v1_id}"


@pytest.mark.parametrize("bad", NOT_IDS)
def test_anything_else_is_a_422_naming_hwa_id_and_never_reaches_tws(
    viewer_client: Client, operator_client: Client, sim: ThreadedSimulator, bad: str
) -> None:
    sim.server.requests.clear()
    encoded = quote(bad, safe="")
    for client, method, url in (
        (viewer_client, "get", f"/api/tws/jobs/{encoded}"),
        (viewer_client, "get", f"/api/tws/jobs/{encoded}/status"),
        (viewer_client, "get", f"/api/tws/jobs/{encoded}/joblog"),
        (operator_client, "post", f"/api/tws/jobs/{encoded}/actions/hold"),
    ):
        answer = getattr(client, method)(url)
        assert answer.status_code == 422, (url, answer.status_code)
        assert [e["field"] for e in answer.json()["errors"]] == ["hwa_id"], url
    assert sim.requests() == []


def test_a_control_character_is_refused_before_any_route(viewer_client: Client, sim: ThreadedSimulator) -> None:
    sim.server.requests.clear()
    answer = viewer_client.get("/api/tws/jobs/d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c%0A/status")
    assert answer.status_code == 404  # no route takes a line break: Django's resolver refuses it first
    assert sim.requests() == []


def test_the_openapi_document_states_the_id_pattern(admin_client_: Client) -> None:
    spec = admin_client_.get("/api/openapi.json").json()
    params = spec["paths"]["/api/tws/jobs/{hwa_id}/actions/{action}"]["post"]["parameters"]
    hwa_id = next(p for p in params if p["name"] == "hwa_id")
    assert hwa_id["in"] == "path"
    assert ";" in hwa_id["schema"]["pattern"]
