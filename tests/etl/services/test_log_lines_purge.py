"""Retention: old lines of finished jobs go in audited batches with a digest of what went; running jobs keep theirs."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from core import keyring
from core.retention import rows_digest
from etl.models import Job, LogLine
from etl.services import job_claim, log_lines_purge, step_lines_append
from etl.services.retention import LINE_FIELDS

pytestmark = pytest.mark.django_db(transaction=True)


def _job_with_lines(make_system: Any, start_job: Any, code: str, lines: int, *, status: str, days_ago: float) -> Job:
    make_system(code, script="print(1)")
    job = start_job(code)
    job_claim(job_id=job.pk)
    step = job.steps.get()
    now = timezone.now()
    rows = [(seq, now, "INFO", code, f"{code} line {seq}") for seq in range(1, lines + 1)]
    step_lines_append(job_id=job.pk, step_id=step.pk, rows=rows, progress=0, line_count=lines, status_text="")
    if status != "running":
        finished = now - timedelta(days=days_ago)
        Job.objects.filter(pk=job.pk).update(status=status, finished_at=finished)
        job.steps.update(status=status, finished_at=finished)
    return job


def _purge_entries() -> list[dict[str, Any]]:
    entries = AuditEntry.objects.filter(action="etl.retention.purge").order_by("timestamp", "pk")
    return [json.loads(keyring.decrypt(entry.payload)) for entry in entries]


def test_old_lines_of_finished_jobs_go_in_audited_batches_and_running_jobs_keep_theirs(
    make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    settings.ETL_RETENTION_DAYS, settings.ETL_RETENTION_FAILED_DAYS, settings.ETL_RETENTION_BATCH_SIZE = 30, 90, 4
    old = _job_with_lines(make_system, start_job, "maps", 10, status="success", days_ago=40)
    failed = _job_with_lines(make_system, start_job, "amplis", 3, status="error", days_ago=40)  # kept longer
    recent = _job_with_lines(make_system, start_job, "fidc", 3, status="success", days_ago=1)
    running = _job_with_lines(make_system, start_job, "mapsb", 3, status="running", days_ago=0)
    Job.objects.filter(pk=running.pk).update(started_at=timezone.now() - timedelta(days=400))
    removed = list(LogLine.objects.filter(job=old).order_by("pk").values_list("pk", *LINE_FIELDS))

    dry = log_lines_purge(dry_run=True)
    assert [(p.count, p.first_id, p.last_id) for p in dry] == [(10, removed[0][0], removed[-1][0])]
    assert LogLine.objects.filter(job=old).count() == 10  # a dry run removes nothing

    batches = log_lines_purge()
    assert [p.count for p in batches] == [4, 4, 2]
    assert not LogLine.objects.filter(job=old).exists()
    for job, count in ((failed, 3), (recent, 3), (running, 3)):
        assert LogLine.objects.filter(job=job).count() == count
    # One audit entry per batch: an auditor holding a backup recomputes each digest from the rows.
    data = _purge_entries()
    assert len(data) == 3
    assert [d["count"] for d in data] == [4, 4, 2]
    assert [d["digest"] for d in data] == [
        rows_digest(removed[0:4]),
        rows_digest(removed[4:8]),
        rows_digest(removed[8:10]),
    ]
    assert data[0]["job_seq_ranges"] == {str(old.pk): [1, 4]}
    assert (data[0]["first_id"], data[-1]["last_id"]) == (removed[0][0], removed[-1][0])
    assert log_lines_purge() == []  # nothing due any more, and no empty audit entry
    assert len(_purge_entries()) == 3


def test_manage_py_retention_dry_run_says_what_would_go(
    make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    settings.ETL_RETENTION_DAYS = 30
    old = _job_with_lines(make_system, start_job, "maps", 5, status="cancelled", days_ago=40)
    out = StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "would purge 5 row(s) of etl_logline" in out.getvalue()
    assert LogLine.objects.filter(job=old).count() == 5
    out = StringIO()
    call_command("retention", stdout=out)
    assert "purged 5 row(s) of etl_logline" in out.getvalue()
    assert not LogLine.objects.filter(job=old).exists()


def test_the_hourly_task_purges_what_is_due(make_system: Any, start_job: Any, no_enqueue: None, settings: Any) -> None:
    from resync_site.tasks import retention_task

    settings.ETL_RETENTION_DAYS = 30
    old = _job_with_lines(make_system, start_job, "maps", 5, status="success", days_ago=40)
    assert retention_task.call_local() == 5
    assert not LogLine.objects.filter(job=old).exists()
    assert len(_purge_entries()) == 1
