"""Write path of the audit trail: build entries, keep pending ones, seal batches into the chain."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from audit import chain
from audit.models import AuditEntry, ChainHead
from core import keyring
from core.context import get_correlation_id, get_user_key

if TYPE_CHECKING:
    from django.http import HttpRequest

_BULK = 500


@dataclass(frozen=True, slots=True)
class Draft:
    """An accepted entry not yet sealed: payload already encrypted."""

    uid: uuid.UUID
    timestamp: datetime
    actor: str
    action: str
    target: str
    correlation_id: str
    key_id: str
    payload: str

    def to_json(self) -> dict[str, str]:
        """Return the draft as JSON-ready text fields (no plaintext: the payload is sealed)."""
        return {
            "uid": str(self.uid),
            "timestamp": chain.format_timestamp(self.timestamp),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "correlation_id": self.correlation_id,
            "key_id": self.key_id,
            "payload": self.payload,
        }

    @classmethod
    def from_json(cls, doc: dict[str, str]) -> Draft:
        """Return the draft written by :meth:`to_json`."""
        return cls(
            uid=uuid.UUID(doc["uid"]),
            timestamp=chain.parse_timestamp(doc["timestamp"]),
            actor=doc["actor"],
            action=doc["action"],
            target=doc["target"],
            correlation_id=doc["correlation_id"],
            key_id=doc["key_id"],
            payload=doc["payload"],
        )


def actor_label(actor: Any) -> str:
    """Return the name recorded for ``actor`` (a user, a string, or None for the system)."""
    if actor is None:
        user_key = get_user_key()
        return f"user:{user_key}" if user_key else "system"
    if isinstance(actor, str):
        return actor[:150]
    username = getattr(actor, "get_username", None)
    if callable(username) and getattr(actor, "is_authenticated", False):
        return str(username())[:150]
    return "anonymous"


def draft_build(*, action: str, actor: Any, target: str, data: dict[str, Any], request: HttpRequest | None) -> Draft:
    """Return a draft entry with its payload encrypted under the active key."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    payload = keyring.encrypt(json.dumps(data, sort_keys=True, default=str, ensure_ascii=False))
    return Draft(
        uid=uuid.uuid4(),
        timestamp=timezone.now(),
        actor=actor_label(actor),
        action=action[:100],
        target=target[:255],
        correlation_id=(get_correlation_id() or "")[:64],
        key_id=keyring.key_id_of(payload),
        payload=payload,
    )


def draft_mac(draft: Draft) -> str:
    """Return the MAC that proves a pending row was written by the recorder (key from the key ring)."""
    return keyring.pending_mac(
        chain.pending_body(
            uid=draft.uid.hex,
            timestamp=draft.timestamp,
            actor=draft.actor,
            action=draft.action,
            target=draft.target,
            correlation_id=draft.correlation_id,
            key_id=draft.key_id,
            payload=draft.payload,
        )
    )


def pending_insert(*, draft: Draft) -> None:
    """Write ``draft`` unsealed, with its MAC, inside the caller's transaction; it commits or rolls back with it."""
    AuditEntry.objects.create(
        uid=draft.uid,
        seq=None,
        timestamp=draft.timestamp,
        actor=draft.actor,
        action=draft.action,
        target=draft.target,
        correlation_id=draft.correlation_id,
        key_id=draft.key_id,
        payload=draft.payload,
        pending_mac=draft_mac(draft),
    )


def head_read() -> tuple[int, str]:
    """Return the last sealed ``(seq, hash)`` as the head row says."""
    head = ChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    return head if head is not None else (0, chain.GENESIS_HASH)
