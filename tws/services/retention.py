"""Purge old job status transitions and plan sync runs, each batch sealed into the audit trail."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

import audit
from core.retention import Purged, purge_batch, purge_preview, purge_until_done
from tws import conf
from tws.models import JobStatusTransition, SyncRun

TRANSITION_FIELDS = ("job_hwa_id", "job_name", "from_status", "to_status", "at")
SYNC_RUN_FIELDS = ("started_at", "finished_at", "outcome", "api_version", "jobs_seen", "jobs_changed", "detail")


def _due(now: datetime) -> list[tuple[QuerySet[Any], tuple[str, ...]]]:
    transitions_before = now - timedelta(days=float(conf.get("TWS_TRANSITION_RETENTION_DAYS")))
    runs_before = now - timedelta(days=float(conf.get("TWS_SYNC_RUN_RETENTION_DAYS")))
    return [
        (JobStatusTransition.objects.filter(at__lt=transitions_before), TRANSITION_FIELDS),
        (SyncRun.objects.filter(finished_at__lt=runs_before), SYNC_RUN_FIELDS),
    ]


@transaction.atomic
def _purge_batch(queryset: QuerySet[Any], fields: tuple[str, ...], *, now: datetime, batch_size: int) -> Purged:
    purged, _ = purge_batch(queryset, fields=fields, batch_size=batch_size)
    if purged.count:
        audit.record(
            "tws.retention.purge",
            actor=None,
            target=f"table:{purged.table}",
            data={**purged.as_data(), "cutoff_now": now.isoformat()},
        )
    return purged


def history_purge(*, dry_run: bool = False, now: datetime | None = None) -> list[Purged]:
    """Purge transitions and sync runs past retention in batches, one audit entry ``tws.retention.purge`` each.

    ``dry_run`` removes nothing and returns one preview per table with rows due.
    """
    now = now or timezone.now()
    batches: list[Purged] = []
    for queryset, fields in _due(now):
        if dry_run:
            preview = purge_preview(queryset)
            batches.extend([preview] if preview.count else [])
            continue
        batch_size = int(conf.get("TWS_RETENTION_BATCH_SIZE"))
        batches += purge_until_done(functools.partial(_purge_batch, queryset, fields, now=now, batch_size=batch_size))
    return batches
