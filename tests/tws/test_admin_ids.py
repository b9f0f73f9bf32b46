"""The jobs-in-plan admin with HWA's composite v1 ids: list, search, page and the action form reach the right job."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws.models import JobInPlan
from tws.services import plan_sync
from tws.simulator.threaded import ThreadedSimulator

LIST = "/admin/tws/jobinplan/"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "false")
    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "2")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    from tws.hwa.client import forget_tws_clients

    forget_tws_clients()


# The action records its audit entry from the client's own thread and connection, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_action_form_reruns_the_job_of_a_composite_id(admin_client_: Client, sim: ThreadedSimulator) -> None:
    from audit.testing import recorded_entries

    assert plan_sync(settings=fast_settings(sim.url)).ok
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common in ("SUCCESSFUL", "ERROR"))
    row = JobInPlan.objects.get(hwa_id=job.v1_id)
    found = admin_client_.get(LIST, {"q": job.v1_id})
    assert found.status_code == 200
    assert f'href="{LIST}{row.pk}/change/' in found.content.decode()
    assert "rerun_jobs" in found.content.decode()
    page = admin_client_.get(f"{LIST}{row.pk}/change/")
    assert page.status_code == 200
    assert job.v1_id in page.content.decode()
    before = job.run_number
    sim.server.requests.clear()
    asked = admin_client_.post(LIST, {"action": "rerun_jobs", "_selected_action": [str(row.pk)]})
    assert 'name="reason"' in asked.content.decode()  # one reason for the batch first
    assert sim.requests("/plan/") == []
    done = admin_client_.post(
        LIST,
        {"action": "rerun_jobs", "_selected_action": [str(row.pk)], "confirmed": "yes", "reason": "INC-1 rerun"},
        follow=True,
    )
    assert done.status_code == 200
    assert (
        f"{row}: Reexecutar aceito pelo HWA" in done.content.decode()
        or f"{row}: Rerun accepted" in done.content.decode()
    )
    assert job.run_number == before + 1
    assert next((r.method, r.raw_path) for r in sim.requests("/plan/")) == (
        "PUT",
        f"/twsd/plan/current/job/{job.v1_id.replace(';', '%3B')}/action/rerun",
    )
    assert recorded_entries(action="tws_job.rerun")[-1]["target"] == f"tws_job:{job.v1_id}"
    assert recorded_entries(action="tws_job.rerun")[-1]["data"]["reason"] == "INC-1 rerun"


@pytest.mark.django_db
def test_staff_without_the_act_permission_get_no_action(django_user_model: Any) -> None:
    from resync_site.roles import roles_sync

    roles_sync()
    staff_viewer = django_user_model.objects.create_user(username="sv", password="x", is_staff=True)
    staff_viewer.groups.add(Group.objects.get(name="Viewers"))
    client = Client()
    client.force_login(staff_viewer)
    page = client.get(LIST)
    assert page.status_code == 200
    assert "rerun_jobs" not in page.content.decode()
