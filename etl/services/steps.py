"""Start and finish the steps of a running job, and store their output lines."""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Avg
from django.utils import timezone

from etl import events
from etl.metrics import LOG_LINES_TOTAL
from etl.models import Job, JobStep, LogLine, Status
from etl.services.workers import HOSTNAME

Row = tuple[int, datetime, str, str, str]  # seq, timestamp, level, system, message
INSERT_LINES = (
    f"INSERT INTO {LogLine._meta.db_table} "  # noqa: S608 — the table name is the model's, never input
    "(job_id, step_id, seq, timestamp, level, system, message) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


@transaction.atomic
def step_start(*, step_id: int, pid: int, pgid: int) -> None:
    """Record that step ``step_id`` runs as process group ``pgid`` on this host."""
    JobStep.objects.filter(pk=step_id).update(
        status=Status.RUNNING, started_at=timezone.now(), pid=pid, pgid=pgid, hostname=HOSTNAME
    )
    step = JobStep.objects.select_related("system").get(pk=step_id)
    events.publish(
        step.job_id,
        events.status_message(
            job_id=step.job_id, system=step.system.code, status="running", progress=0, message="iniciando"
        ),
    )


@transaction.atomic
def step_lines_append(
    *,
    job_id: int,
    step_id: int,
    rows: list[Row],
    progress: int,
    line_count: int,
    status_text: str,
    spool_offsets: dict[str, int] | None = None,
) -> None:
    """Insert a batch of log lines of step ``step_id`` and its progress; publish them after commit."""
    adapt = functools.lru_cache(maxsize=64)(connection.ops.adapt_datetimefield_value)  # lines share chunk stamps
    with connection.cursor() as cursor:
        # executemany, not bulk_create: building a model per line costs more than the insert itself.
        cursor.executemany(
            INSERT_LINES,
            [(job_id, step_id, seq, adapt(ts), level, system, message) for seq, ts, level, system, message in rows],
        )
    changes: dict[str, object] = {"progress": progress, "line_count": line_count}
    if spool_offsets is not None:  # in the lines' transaction: a recovery never stores a line twice
        changes["spool_offsets"] = spool_offsets
    JobStep.objects.filter(pk=step_id).update(**changes)
    _job_progress_update(job_id)
    messages = [
        events.log_message(job_id=job_id, seq=seq, level=level, system=system, message=message, timestamp=ts)
        for seq, ts, level, system, message in rows
    ]
    system = rows[-1][3] if rows else ""
    messages.append(
        events.status_message(job_id=job_id, system=system, status="running", progress=progress, message=status_text)
    )
    events.publish_many(job_id, messages)
    count = len(rows)
    transaction.on_commit(lambda: LOG_LINES_TOTAL.inc(count))


@transaction.atomic
def step_finish(
    *, step_id: int, status: str, exit_code: int | None, summary: str, progress: int, line_count: int
) -> None:
    """Record the end of step ``step_id``."""
    now = timezone.now()
    step = JobStep.objects.select_related("system").get(pk=step_id)
    step.status, step.exit_code, step.error_summary = status, exit_code, summary[:4000]
    step.finished_at, step.line_count = now, line_count
    step.progress = 100 if status == Status.SUCCESS else progress
    step.duration_seconds = (now - step.started_at).total_seconds() if step.started_at else None
    step.save()
    _job_progress_update(step.job_id)
    events.publish(
        step.job_id,
        events.status_message(
            job_id=step.job_id, system=step.system.code, status=status, progress=step.progress, message=summary[:200]
        ),
    )


def _job_progress_update(job_id: int) -> None:
    # A job is as far along as its steps on average: two systems, one done and one at half, is 75 %.
    mean = JobStep.objects.filter(job_id=job_id).aggregate(m=Avg("progress"))["m"]
    Job.objects.filter(pk=job_id).update(progress=round(mean or 0))
