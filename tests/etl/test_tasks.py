"""Huey wiring, the shutdown drain, the health component and the settings check."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from etl.models import Job
from tests.etl.conftest import wait_for


@pytest.fixture
def immediate_huey() -> Iterator[None]:
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.mark.django_db(transaction=True)
def test_an_executed_job_runs_through_its_huey_task_after_commit(
    immediate_huey: None, make_system: Any, operator: Any
) -> None:
    from etl.services import job_execute

    make_system("maps", script="print('[INFO] [MAPS] via huey')")
    job = job_execute(systems=["maps"], options={"data_inicial": "2025-01-15"}, acting_user=operator)
    job.refresh_from_db()
    assert job.status == "success"
    assert job.log_lines.get().message == "via huey"


@pytest.mark.django_db(transaction=True)
def test_the_reaper_task_is_periodic_and_thin(immediate_huey: None) -> None:
    from etl.tasks import reap_jobs_task

    assert reap_jobs_task.call_local() == {"reaped": 0, "requeued": 0}


@pytest.mark.django_db(transaction=True)
async def test_the_shutdown_drain_records_running_jobs_instead_of_losing_them(
    make_system: Any, start_job: Any, no_enqueue: None, fast_runner: None
) -> None:
    from asgiref.sync import sync_to_async

    from etl.lifecycle import drain
    from etl.runner.job import active_runners, run_job

    await sync_to_async(make_system)(
        "maps", script="import time; print('[INFO] [MAPS] busy', flush=True); time.sleep(60)"
    )
    job = await sync_to_async(start_job)("maps")
    worker = threading.Thread(target=run_job, args=(job.pk,), daemon=True)
    worker.start()
    # Poll the runner, not the database: the test must not contend with the runner's writes.
    await sync_to_async(wait_for)(lambda: active_runners() and active_runners()[0].current_pgid)
    await drain()
    await sync_to_async(worker.join)(10)
    job = await Job.objects.aget(pk=job.pk)
    assert job.status == "error"
    assert "interrupted by worker shutdown" in job.error_summary
    assert active_runners() == []


@pytest.mark.django_db
def test_health_reports_stale_running_jobs(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    import datetime as dt

    from django.utils import timezone

    from etl.health import check

    make_system("maps")
    job = start_job("maps")
    assert check()["status"] == "ok"
    Job.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    report = check()
    assert report["status"] == "degraded"
    assert report["detail"]["stale"] == 1


def test_invalid_settings_are_reported_as_a_system_check(settings: Any) -> None:
    from etl.conf import check_settings

    assert check_settings() == []
    settings.ETL_CANCEL_GRACE_SECONDS = -1
    settings.ETL_STEP_TIMEOUT_SECONDS = {"maps": "soon"}
    messages = [m.msg for m in check_settings()]
    assert any("ETL_CANCEL_GRACE_SECONDS must be a positive number" in m for m in messages)
    assert any("ETL_STEP_TIMEOUT_SECONDS must be a mapping of positive numbers" in m for m in messages)
