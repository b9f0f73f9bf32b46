"""Purge the log lines of finished jobs past their retention, each batch sealed into the audit trail."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

import audit
from core.retention import Purged, purge_batch, purge_preview, purge_until_done
from etl import conf
from etl.models import LogLine, Status

LINE_FIELDS = ("job_id", "step_id", "seq", "timestamp", "level", "system", "message")


def log_lines_due(*, now: datetime | None = None) -> QuerySet[LogLine]:
    """Return the log lines past retention: of jobs finished before the cutoff of their outcome, never a running one."""
    now = now or timezone.now()
    kept = now - timedelta(days=float(conf.get_setting("ETL_RETENTION_DAYS")))
    failed_kept = now - timedelta(days=float(conf.get_setting("ETL_RETENTION_FAILED_DAYS")))
    ok = LogLine.objects.filter(job__status__in=(Status.SUCCESS, Status.CANCELLED), job__finished_at__lt=kept)
    failed = LogLine.objects.filter(job__status=Status.ERROR, job__finished_at__lt=failed_kept)
    return ok | failed


@transaction.atomic
def _log_lines_purge_batch(*, now: datetime, batch_size: int) -> Purged:
    purged, rows = purge_batch(log_lines_due(now=now), fields=LINE_FIELDS, batch_size=batch_size)
    if purged.count:
        seqs: dict[str, list[int]] = {}
        for row in rows:  # [pk, job_id, step_id, seq, ...]
            low_high = seqs.setdefault(str(row[1]), [row[3], row[3]])
            low_high[0], low_high[1] = min(low_high[0], row[3]), max(low_high[1], row[3])
        audit.record(
            "etl.retention.purge",
            actor=None,
            target=f"table:{purged.table}",
            data={**purged.as_data(), "job_seq_ranges": seqs, "cutoff_now": now.isoformat()},
        )
    return purged


def log_lines_purge(*, dry_run: bool = False, now: datetime | None = None) -> list[Purged]:
    """Purge the log lines past retention in batches of ``ETL_RETENTION_BATCH_SIZE``; return each batch.

    Each batch is one transaction with its own audit entry ``etl.retention.purge`` (count, id range, the
    seq range per job, a digest of the removed rows). ``dry_run`` removes nothing and returns one preview.
    """
    now = now or timezone.now()
    if dry_run:
        due = log_lines_due(now=now)
        preview = purge_preview(due)
        return [preview] if preview.count else []
    batch_size = int(conf.get_setting("ETL_RETENTION_BATCH_SIZE"))
    return purge_until_done(functools.partial(_log_lines_purge_batch, now=now, batch_size=batch_size))
