"""Writes of alerts: raise (deduplicated while open) and acknowledge."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from tws.exceptions import AlertNotFound
from tws.models import Alert
from tws.services.upsert import db_datetime, upsert


def alert_raise(*, kind: str, target: str, message: str) -> bool:
    """Open an alert unless one is already open for (kind, target); return whether one was opened."""
    if Alert.objects.filter(kind=kind, target=target, acknowledged_at__isnull=True).exists():
        return False
    try:
        with transaction.atomic():
            Alert.objects.create(kind=kind, target=target, message=message[:500])
    except IntegrityError:  # another process opened the same alert meanwhile
        return False
    return True


def alerts_raise_many(*, kind: str, items: list[tuple[str, str]]) -> int:
    """Open alerts of ``kind`` for many (target, message) at once; existing open ones are kept."""
    if not items:
        return 0
    before = Alert.objects.filter(kind=kind, acknowledged_at__isnull=True).count()
    created_at = db_datetime(timezone.now())
    rows = [(kind, t[:200], m[:500], created_at) for t, m in items]
    # The partial unique index (one open alert per kind and target) turns duplicates into no-ops.
    upsert(Alert, columns=("kind", "target", "message", "created_at"), rows=rows, unique=None)
    return Alert.objects.filter(kind=kind, acknowledged_at__isnull=True).count() - before


@transaction.atomic
def alert_acknowledge(*, alert_id: int, acting_user: Any) -> Alert:
    """Acknowledge an alert (idempotent) and record who did it."""
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise AlertNotFound(f"alert {alert_id} does not exist")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = acting_user if getattr(acting_user, "pk", None) else None
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record(
            "tws_alert.acknowledged",
            actor=acting_user,
            target=f"tws_alert:{alert.pk}",
            data={"kind": alert.kind, "alert_target": alert.target},
        )
    return alert
