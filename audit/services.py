"""Write path of the audit trail."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit import keyring
from audit.context import get_correlation_id
from audit.models import AuditEntry

if TYPE_CHECKING:
    from django.http import HttpRequest


def actor_label(actor: Any) -> str:
    """Return the name recorded for ``actor`` (a user, a string, or None for the system)."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    username = getattr(actor, "get_username", None)
    if callable(username) and getattr(actor, "is_authenticated", False):
        return str(username())
    return "anonymous"


@transaction.atomic
def entry_record(
    *, action: str, actor: Any, target: str, data: dict[str, Any], request: HttpRequest | None
) -> AuditEntry:
    """Append one entry inside the caller's transaction."""
    if request is not None and actor is None:
        actor = getattr(request, "user", None)
    last = AuditEntry.objects.select_for_update().aggregate(m=Max("seq"))["m"] or 0
    payload = keyring.encrypt(json.dumps(data, sort_keys=True, default=str))
    return AuditEntry.objects.create(
        seq=last + 1,
        timestamp=timezone.now(),
        actor=actor_label(actor),
        action=action,
        target=target,
        correlation_id=get_correlation_id() or "",
        payload=payload,
    )
