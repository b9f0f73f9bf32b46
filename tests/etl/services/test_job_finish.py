"""One way to end a job: its runner, a cancel and the reaper all leave the same record, audit entry and count."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY

from audit.testing import recorded_entries
from etl.models import Job
from etl.services import job_cancel, job_claim, job_finish

pytestmark = pytest.mark.django_db(transaction=True)


def _jobs_total(status: str) -> float:
    return REGISTRY.get_sample_value("etl_jobs_total", {"status": status}) or 0.0


def test_a_failed_job_is_recorded_and_the_steps_it_never_ran_are_cancelled(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    make_system("fidc")
    job = start_job("maps", "fidc")
    job_claim(job_id=job.pk)
    errors_before = _jobs_total("error")
    finished = job_finish(job_id=job.pk, status="error", exit_code=3, summary="report server refused the login")
    assert finished is not None
    job.refresh_from_db()
    assert (job.status, job.exit_code, job.error_summary) == ("error", 3, "report server refused the login")
    assert job.finished_at is not None
    assert job.duration_seconds is not None
    assert list(job.steps.order_by("order").values_list("status", "error_summary")) == [
        ("cancelled", "not run: report server refused the login"),
        ("cancelled", "not run: report server refused the login"),
    ]
    entries = recorded_entries(action="job.finish", target=f"job:{job.pk}")
    assert [(e["data"]["status"], e["data"]["exit_code"]) for e in entries] == [("error", 3)]
    assert _jobs_total("error") == errors_before + 1


def test_a_successful_job_shows_full_progress(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system("maps")
    job = start_job("maps")
    job_claim(job_id=job.pk)
    job_finish(job_id=job.pk, status="success", exit_code=0, summary="")
    job.refresh_from_db()
    assert (job.status, job.progress, job.error_summary) == ("success", 100, "")


def test_a_job_already_ended_elsewhere_keeps_its_first_end(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    # The reaper failed the job; its runner, back late, reports success: the first end stands, recorded once.
    make_system("maps")
    job = start_job("maps")
    job_claim(job_id=job.pk)
    job_finish(job_id=job.pk, status="error", summary="worker lost")
    assert job_finish(job_id=job.pk, status="success", exit_code=0, summary="") is None
    job.refresh_from_db()
    assert (job.status, job.error_summary) == ("error", "worker lost")
    assert len(recorded_entries(action="job.finish", target=f"job:{job.pk}")) == 1


def test_cancelling_a_pending_job_ends_it_the_same_way(
    make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    make_system("maps")
    job = start_job("maps")
    cancelled_before = _jobs_total("cancelled")
    assert job_cancel(job_id=job.pk, acting_user=operator).status == "cancelled"
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.error_summary, job.duration_seconds) == ("cancelled", "cancelled before it started", None)
    assert list(job.steps.values_list("status", flat=True)) == ["cancelled"]
    finishes = recorded_entries(action="job.finish", target=f"job:{job.pk}")
    assert [e["data"]["status"] for e in finishes] == ["cancelled"]
    assert _jobs_total("cancelled") == cancelled_before + 1
