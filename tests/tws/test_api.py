"""The /api/tws endpoints: synced plan reads, live status, actions and alerts, with permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.tws.conftest import client_env, fast_settings
from tws.models import Alert
from tws.services import plan_sync
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator) -> None:
    client_env(monkeypatch, settings, sim, v2=True)


@pytest.fixture
def synced(sim: ThreadedSimulator) -> ThreadedSimulator:
    assert plan_sync(settings=fast_settings(sim.url)).ok
    return sim


def test_anonymous_is_refused(client: Client) -> None:
    assert client.get("/api/tws/jobs").status_code == 401


def test_jobs_are_filtered_sorted_and_paginated(viewer_client: Client, synced: ThreadedSimulator) -> None:
    plan = synced.server.plan
    page = viewer_client.get("/api/tws/jobs", {"limit": 10, "offset": 0, "sort": "-name"}).json()
    assert page["count"] == 300
    names = [j["name"] for j in page["items"]]
    assert names == sorted(names, reverse=True)
    assert len(names) == 10
    errors = viewer_client.get("/api/tws/jobs", {"status": "ERROR", "limit": 500}).json()
    expected = sum(1 for j in plan.jobs if plan.state(j).common == "ERROR")
    assert errors["count"] == expected
    assert {j["status"] for j in errors["items"]} == {"ERROR"}
    ws = plan.workstations[plan.jobs[0].workstation].name
    on_ws = viewer_client.get("/api/tws/jobs", {"workstation": ws, "limit": 500}).json()
    assert on_ws["count"] > 0
    assert {j["workstation"] for j in on_ws["items"]} == {ws}
    js = plan.streams[plan.jobs[0].stream].name
    assert viewer_client.get("/api/tws/jobs", {"job_stream": js}).json()["count"] > 0
    assert viewer_client.get("/api/tws/jobs", {"name": plan.jobs[9].name}).json()["count"] == 1
    bad = viewer_client.get("/api/tws/jobs", {"sort": "password"})
    assert bad.status_code == 422
    assert "sort" in bad.json()["detail"]


def test_one_job_its_live_status_and_log(viewer_client: Client, synced: ThreadedSimulator) -> None:
    job = synced.server.plan.jobs[12]
    body = viewer_client.get(f"/api/tws/jobs/{job.id}").json()
    assert body["name"] == job.name
    status = viewer_client.get(f"/api/tws/jobs/{job.id}/status").json()
    assert status["status"] == synced.server.plan.state(job).common
    log = viewer_client.get(f"/api/tws/jobs/{job.id}/joblog").json()
    assert job.name in log["text"]
    missing = viewer_client.get("/api/tws/jobs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "job_not_found"


def test_status_engine_plan_and_workstations(viewer_client: Client, synced: ThreadedSimulator) -> None:
    status = viewer_client.get("/api/tws/status").json()
    assert status["reachable"] is True
    assert status["circuit_state"] == "closed"
    assert status["last_sync"]["outcome"] == "ok"
    assert viewer_client.get("/api/tws/engine").json()["version"] == "10.2.8.0"
    plan = viewer_client.get("/api/tws/plan").json()
    assert plan["total"] == 300
    assert sum(plan["by_status"].values()) == 300
    workstations = viewer_client.get("/api/tws/workstations").json()
    assert len(workstations) == len(synced.server.plan.workstations)


def test_status_reports_unreachable_tws_without_failing(viewer_client: Client, sim: ThreadedSimulator) -> None:
    sim.set_faults(error_503=1.0)
    status = viewer_client.get("/api/tws/status")
    assert status.status_code == 200
    assert status.json()["reachable"] is False


def test_alerts_are_listed_and_acknowledged_by_operators_only(
    viewer_client: Client, operator_client: Client, synced: ThreadedSimulator
) -> None:
    from audit.testing import recorded_entries

    listed = viewer_client.get("/api/tws/alerts", {"kind": "job_error"}).json()
    assert listed["count"] == Alert.objects.filter(kind="job_error").count() > 0
    alert_id = listed["items"][0]["id"]
    assert viewer_client.post(f"/api/tws/alerts/{alert_id}/acknowledge").status_code == 403
    done = operator_client.post(f"/api/tws/alerts/{alert_id}/acknowledge")
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == "operator"
    assert recorded_entries(action="tws_alert.acknowledged")[-1]["target"] == f"tws_alert:{alert_id}"
    still_open = viewer_client.get("/api/tws/alerts", {"kind": "job_error"}).json()["count"]
    assert still_open == listed["count"] - 1
    assert operator_client.post("/api/tws/alerts/999999/acknowledge").status_code == 404


# The async view records its audit entry from a pool thread with a connection of its own: without a
# wrapping test transaction holding SQLite's write lock, as in production.
@pytest.mark.django_db(transaction=True)
def test_job_actions_are_audited_and_need_the_permission(
    viewer_client: Client, operator_client: Client, synced: ThreadedSimulator
) -> None:
    from audit.testing import recorded_entries

    plan = synced.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL")
    assert viewer_client.post(f"/api/tws/jobs/{job.id}/actions/hold").status_code == 403
    held = operator_client.post(f"/api/tws/jobs/{job.id}/actions/hold")
    assert held.status_code == 202, held.json()
    assert plan.state(job).common == "HELD"
    assert recorded_entries(action="tws_job.hold")[-1]["target"] == f"tws_job:{job.id}"
    conflict = operator_client.post(f"/api/tws/jobs/{job.id}/actions/kill")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "tws_conflict"
    operator_client.post(f"/api/tws/jobs/{job.id}/actions/release")
