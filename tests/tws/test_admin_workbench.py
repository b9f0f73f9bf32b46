"""The job page as a workbench: state-aware actions with a reason, HWA's refusal, joblog, transitions, filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws.models import JobInPlan, JobStatusTransition
from tws.services import job_actions_allowed, plan_sync
from tws.simulator.threaded import ThreadedSimulator

LIST = "/admin/tws/jobinplan/"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator) -> None:
    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "2")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    settings.LANGUAGE_CODE = "en"
    from tws.hwa.client import forget_tws_clients

    forget_tws_clients()


def _synced(sim: ThreadedSimulator, status: str) -> tuple[Any, JobInPlan]:
    assert plan_sync(settings=fast_settings(sim.url)).ok
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common == status)
    return job, JobInPlan.objects.get(hwa_id__in=[job.id, job.v1_id])


def test_actions_follow_hwa_states() -> None:
    assert job_actions_allowed(status="ERROR") == ["rerun"]
    assert job_actions_allowed(status="HELD") == ["release", "cancel"]
    assert job_actions_allowed(status="RUNNING") == ["kill", "cancel"]
    assert job_actions_allowed(status="WAITING") == ["hold", "cancel"]


@pytest.mark.django_db(transaction=True)
def test_rerun_from_the_job_page_asks_a_reason_audits_it_and_shows_the_new_run(
    admin_client_: Client, sim: ThreadedSimulator
) -> None:
    from audit.testing import recorded_entries

    job, row = _synced(sim, "ERROR")
    page = admin_client_.get(f"{LIST}{row.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-action="rerun"' in page
    assert 'data-action="release"' not in page
    assert 'data-action="kill"' not in page
    assert "Standard list" in page or job.name in page  # the joblog panel
    assert 'id="tws-joblog"' in page
    asked = admin_client_.post(f"{LIST}{row.pk}/act/rerun/", {"reason": ""})
    assert asked.status_code == 200
    assert "This field is required" in asked.content.decode()
    assert sim.requests("/action/") == []
    done = admin_client_.post(f"{LIST}{row.pk}/act/rerun/", {"reason": "INC-42 disk freed"}, follow=True)
    body = done.content.decode()
    assert "accepted by HWA" in body
    row.refresh_from_db()
    assert row.run_number == job.run_number
    assert row.run_number >= 2
    assert f'id="tws-job-run">{row.run_number}<' in body
    assert JobStatusTransition.objects.filter(job_hwa_id=row.hwa_id, from_status="ERROR").exists()
    assert recorded_entries(action="tws_job.rerun")[-1]["data"] == {"action": "rerun", "reason": "INC-42 disk freed"}
    log = admin_client_.get(f"{LIST}{row.pk}/joblog/")
    assert log["Content-Disposition"].startswith("attachment;")
    assert job.name in log.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_refusal_from_hwa_shows_its_message_code(admin_client_: Client, sim: ThreadedSimulator) -> None:
    _, row = _synced(sim, "SUCCESSFUL")
    JobInPlan.objects.filter(pk=row.pk).update(status="HELD")  # our copy is stale: HWA knows better
    done = admin_client_.post(f"{LIST}{row.pk}/act/release/", {"reason": "try"}, follow=True)
    assert "AWSJPL720E" in done.content.decode()


@pytest.mark.django_db(transaction=True)
def test_bulk_hold_skips_jobs_whose_state_forbids_it(admin_client_: Client, sim: ThreadedSimulator) -> None:
    sim.server.plan.freeze(False)
    sim.server.plan.freeze(True)
    _, waiting = _synced(sim, "WAITING")
    _, ended = _synced(sim, "SUCCESSFUL")
    form = {"action": "hold_jobs", "_selected_action": [str(waiting.pk), str(ended.pk)]}
    asked = admin_client_.post(LIST, form).content.decode()
    assert "not possible in this status" in asked
    done = admin_client_.post(
        LIST, {**form, "confirmed": "yes", "reason": "freeze window"}, follow=True
    ).content.decode()
    assert f"{waiting}: Hold accepted by HWA (now HELD" in done
    assert f"{ended}: Hold is not possible in status SUCCESSFUL" in done


@pytest.mark.django_db(transaction=True)
def test_the_list_filters_by_workstation_and_searches_with_hwa_wildcards(
    admin_client_: Client, sim: ThreadedSimulator
) -> None:
    _, row = _synced(sim, "ERROR")
    page = admin_client_.get(LIST, {"workstation": row.workstation, "status__exact": "ERROR"}).content.decode()
    assert f"{LIST}{row.pk}/change/" in page
    other = JobInPlan.objects.exclude(workstation=row.workstation).first()
    assert other is not None
    assert f"{LIST}{other.pk}/change/" not in page
    prefix = row.name[:-2]
    found = admin_client_.get(LIST, {"q": f"{prefix.lower()}*", "status__exact": "ERROR"}).content.decode()
    assert f"{LIST}{row.pk}/change/" in found
    none = admin_client_.get(LIST, {"q": f"*{prefix}ZZZ@", "status__exact": "ERROR"}).content.decode()
    assert f"{LIST}{row.pk}/change/" not in none
