"""Retention of TWS history: old transitions and sync runs go in audited batches; recent ones stay."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core import keyring
from core.retention import rows_digest
from tws.models import JobStatusTransition, SyncRun
from tws.services.retention import SYNC_RUN_FIELDS, TRANSITION_FIELDS, history_purge

pytestmark = pytest.mark.django_db(transaction=True)


def test_old_transitions_and_sync_runs_go_with_a_digest_each_batch(settings: Any) -> None:
    settings.TWS_TRANSITION_RETENTION_DAYS, settings.TWS_SYNC_RUN_RETENTION_DAYS = 90, 30
    settings.TWS_RETENTION_BATCH_SIZE = 2
    now = timezone.now()
    for days in (100, 120, 95, 10):
        JobStatusTransition.objects.create(
            job_hwa_id=f"J{days}",
            job_name=f"JOB{days}",
            from_status="EXEC",
            to_status="SUCC",
            at=now - timedelta(days=days),
        )
    for days in (40, 1):
        at = now - timedelta(days=days)
        SyncRun.objects.create(started_at=at, finished_at=at, outcome="ok")
    old = list(
        JobStatusTransition.objects.filter(job_hwa_id__in=["J100", "J120", "J95"])
        .order_by("pk")
        .values_list("pk", *TRANSITION_FIELDS)
    )
    old_run = list(SyncRun.objects.filter(finished_at__lt=now - timedelta(days=30)).values_list("pk", *SYNC_RUN_FIELDS))

    assert [(p.table, p.count) for p in history_purge(dry_run=True)] == [
        ("tws_jobstatustransition", 3),
        ("tws_syncrun", 1),
    ]
    assert JobStatusTransition.objects.count() == 4

    assert [(p.table, p.count) for p in history_purge()] == [
        ("tws_jobstatustransition", 2),
        ("tws_jobstatustransition", 1),
        ("tws_syncrun", 1),
    ]
    assert list(JobStatusTransition.objects.values_list("job_hwa_id", flat=True)) == ["J10"]
    assert SyncRun.objects.count() == 1
    entries = AuditEntry.objects.filter(action="tws.retention.purge").order_by("timestamp", "pk")
    digests = [json.loads(keyring.decrypt(entry.payload))["digest"] for entry in entries]
    assert digests == [rows_digest(old[:2]), rows_digest(old[2:]), rows_digest(old_run)]
