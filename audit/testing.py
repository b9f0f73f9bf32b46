"""Test helpers for code that records audit entries."""

from __future__ import annotations

import json
from typing import Any

from audit.models import AuditEntry
from audit.writer import get_writer
from core import keyring


def recorded_entries(*, action: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
    """Return recorded entries (sealed first, payload decrypted) in order, optionally filtered."""
    get_writer().flush()
    qs = AuditEntry.objects.order_by("seq")
    if action is not None:
        qs = qs.filter(action=action)
    if target is not None:
        qs = qs.filter(target=target)
    return [
        {
            "seq": e.seq,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "correlation_id": e.correlation_id,
            "data": json.loads(keyring.decrypt(e.payload)),
        }
        for e in qs
    ]
