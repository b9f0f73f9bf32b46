"""Write path of the audit trail: build entries, keep pending ones, seal batches into the chain."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from audit import chain, keyring
from audit.context import get_correlation_id, get_user_key
from audit.models import AuditEntry, ChainHead

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


@dataclass(frozen=True, slots=True)
class SealResult:
    """What one sealing transaction did."""

    sealed: int
    first_seq: int
    last_seq: int
    last_hash: str


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


def draft_build(
    *, action: str, actor: Any, target: str, data: dict[str, Any], request: HttpRequest | None
) -> Draft:
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


def pending_insert(*, draft: Draft) -> None:
    """Write ``draft`` unsealed inside the caller's transaction; it commits or rolls back with the change."""
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
    )


def _locked_head() -> ChainHead:
    # The head row's lock is what keeps the chain linear across processes and machines.
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def _seal(row: AuditEntry, seq: int, prev_hash: str) -> str:
    row.seq, row.prev_hash = seq, prev_hash
    row.hash = chain.entry_hash(
        seq=seq,
        timestamp=chain.format_timestamp(row.timestamp),
        actor=row.actor,
        action=row.action,
        target=row.target,
        correlation_id=row.correlation_id,
        key_id=row.key_id,
        payload=row.payload,
        prev_hash=prev_hash,
    )
    row.sig_key_id, row.signature = chain.sign_hash(row.hash)
    return row.hash


@transaction.atomic
def entries_seal(*, drafts: Sequence[Draft], check_duplicates: bool = False) -> SealResult:
    """Seal committed pending entries, then ``drafts``, in one transaction under the chain head lock."""
    head = _locked_head()
    seq, prev = head.last_seq, head.last_hash
    first = seq + 1
    pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id"))
    for row in pending:
        seq += 1
        prev = _seal(row, seq, prev)
    if pending:
        AuditEntry.objects.bulk_update(
            pending, ["seq", "prev_hash", "hash", "signature", "sig_key_id"], batch_size=_BULK
        )
    if check_duplicates and drafts:
        # A retried batch whose earlier commit went through (lost acknowledgement) must not be sealed twice.
        done = set(AuditEntry.objects.filter(uid__in=[d.uid for d in drafts]).values_list("uid", flat=True))
        drafts = [d for d in drafts if d.uid not in done]
    rows = []
    for draft in drafts:
        row = AuditEntry(
            uid=draft.uid,
            timestamp=draft.timestamp,
            actor=draft.actor,
            action=draft.action,
            target=draft.target,
            correlation_id=draft.correlation_id,
            key_id=draft.key_id,
            payload=draft.payload,
        )
        seq += 1
        prev = _seal(row, seq, prev)
        rows.append(row)
    AuditEntry.objects.bulk_create(rows, batch_size=_BULK)
    if seq != head.last_seq:
        ChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=prev, updated_at=timezone.now())
    return SealResult(sealed=seq - head.last_seq, first_seq=first, last_seq=seq, last_hash=prev)


def head_read() -> tuple[int, str]:
    """Return the last sealed ``(seq, hash)`` as the head row says."""
    head = ChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    return head if head is not None else (0, chain.GENESIS_HASH)
