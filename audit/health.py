"""The ``audit`` component of /health/detailed."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from audit import conf
from audit.checkpoints import newest_head
from audit.models import AuditEntry
from audit.services import head_read
from audit.verification import last_verification
from audit.writer import get_writer

STALE_PENDING = timedelta(minutes=5)


def check() -> dict[str, Any]:
    """Report buffer depth, last sealed seq and the last verification result."""
    writer = get_writer()
    depth = writer.depth
    capacity = int(conf.get("AUDIT_BUFFER_SIZE"))
    head_seq, _ = head_read()
    pending = AuditEntry.objects.filter(seq__isnull=True, quarantined_at__isnull=True).aggregate(
        count=Count("id"), oldest=Min("timestamp")
    )
    quarantined = AuditEntry.objects.filter(quarantined_at__isnull=False).count()
    head = newest_head()
    signed = head.size if head is not None else 0
    verification = last_verification()
    detail: dict[str, Any] = {
        "durability": conf.durability(),
        "buffer_depth": depth,
        "buffer_capacity": capacity,
        "last_sealed_seq": head_seq,
        "pending": pending["count"],
        "quarantined_foreign_rows": quarantined,
        "signed_tree_head": {"size": signed, "at": head.timestamp if head is not None else None},
        # What truncation detection cannot see right now (docs/audit.md, "What is detected").
        "truncation_window": {
            "unsigned_entries": max(0, head_seq - signed),
            "note": (
                "entries up to the signed tree head are protected against silent deletion by the checkpoint "
                "store; an attacker who controls both the database and the checkpoint store can remove any tail"
            ),
        },
        "last_verification": (
            {k: verification.get(k) for k in ("ok", "at", "checked", "first_bad_seq", "problem")}
            if verification
            else None
        ),
    }
    status = "ok"
    if writer.failing_since is not None:
        detail["flush_error"] = writer.last_flush_error
        detail["failing_for_seconds"] = round(time.monotonic() - writer.failing_since, 1)
        status = "degraded"
    if depth >= capacity * 0.8:
        status = "degraded"
    oldest = pending["oldest"]
    if oldest is not None and timezone.now() - oldest > STALE_PENDING:
        # Committed entries should be sealed within moments; these were not (sealing keeps failing).
        detail["oldest_pending_seconds"] = round((timezone.now() - oldest).total_seconds())
        status = "degraded"
    if verification is not None and not verification.get("ok", True):
        status = "down"
    if quarantined:
        # Someone who can write to the database wrote rows the recorder did not: tampering.
        status = "down"
    return {"status": status, "detail": detail}
