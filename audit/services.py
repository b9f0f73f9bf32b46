"""Write path of the audit trail: build entries, keep pending ones, seal batches into the chain."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from audit import chain
from audit.models import SEALED_FIELDS, AuditArchive, AuditEntry, ChainHead
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
        # A fresh database, or a lost head row: continue from the last sealed entry, never from 0
        # (restarting at seq 1 would collide with existing entries and stop every writer).
        seed = ChainHead(pk=1)
        entry = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").first()
        archive = AuditArchive.objects.order_by("-last_seq").first()
        if entry is not None and entry.seq is not None:
            seed.last_seq, seed.last_hash = entry.seq, entry.hash
        elif archive is not None:
            seed.last_seq, seed.last_hash = archive.last_seq, archive.last_hash
        ChainHead.objects.bulk_create([seed], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def _link(entry: Draft | AuditEntry, seq: int, prev_hash: str) -> tuple[str, str, str]:
    """Return ``(hash, signing key id, signature)`` of ``entry`` placed at ``seq`` after ``prev_hash``."""
    chain_hash = chain.entry_hash(
        seq=seq,
        timestamp=entry.timestamp,
        actor=entry.actor,
        action=entry.action,
        target=entry.target,
        correlation_id=entry.correlation_id,
        key_id=entry.key_id,
        payload=entry.payload,
        prev_hash=prev_hash,
    )
    sig_key_id, signature = chain.sign_hash(chain_hash)
    return chain_hash, sig_key_id, signature


def _seal(row: AuditEntry, seq: int, prev_hash: str) -> str:
    row.seq, row.prev_hash = seq, prev_hash
    row.hash, row.sig_key_id, row.signature = _link(row, seq, prev_hash)
    return row.hash


# The sealing transaction is the hot path of every writer: it speaks SQL directly
# (a few statements per batch) instead of paying the ORM's per-query compile cost.
_ENTRY = AuditEntry._meta.db_table
_HEAD = ChainHead._meta.db_table
_INSERT_COLUMNS = ("uid", *SEALED_FIELDS)


def _head_row(cursor: Any) -> tuple[int, str, bool]:
    # One round trip: lock the head and learn whether unsealed rows wait (the lock is taken first).
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(
        f"SELECT last_seq, last_hash, EXISTS (SELECT 1 FROM {_ENTRY} WHERE seq IS NULL) "  # noqa: S608 — fixed names
        f"FROM {_HEAD} WHERE id = 1{lock}"
    )
    found = cursor.fetchone()
    if found is not None:
        return int(found[0]), str(found[1]), bool(found[2])
    _locked_head()
    return _head_row(cursor)


def _insert_rows(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    columns = ", ".join(_INSERT_COLUMNS)
    if connection.vendor == "postgresql":
        # COPY is PostgreSQL's bulk path: one round trip for the batch, no per-row SQL.
        with connection.connection.cursor() as raw, raw.copy(f"COPY {_ENTRY} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join(["%s"] * len(_INSERT_COLUMNS))
    cursor.executemany(f"INSERT INTO {_ENTRY} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608 — fixed names


@transaction.atomic
def entries_seal(*, drafts: Sequence[Draft], check_duplicates: bool = False) -> SealResult:
    """Seal committed pending entries, then ``drafts``, in one transaction under the chain head lock."""
    with connection.cursor() as cursor:
        last_seq, prev, has_pending = _head_row(cursor)
        seq = last_seq
        if has_pending:
            pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id"))
            for row in pending:
                seq += 1
                prev = _seal(row, seq, prev)
            AuditEntry.objects.bulk_update(
                pending, ["seq", "prev_hash", "hash", "signature", "sig_key_id"], batch_size=_BULK
            )
        if check_duplicates and drafts:
            # A retried batch whose earlier commit went through (lost acknowledgement) must not be sealed twice.
            done = set(AuditEntry.objects.filter(uid__in=[d.uid for d in drafts]).values_list("uid", flat=True))
            drafts = [d for d in drafts if d.uid not in done]
        if drafts:
            native_uuid = connection.features.has_native_uuid_field
            adapt_ts = connection.ops.adapt_datetimefield_value
            rows: list[tuple[Any, ...]] = []
            for d in drafts:
                seq += 1
                chain_hash, sig_key_id, signature = _link(d, seq, prev)
                uid = d.uid if native_uuid else d.uid.hex
                rows.append(
                    (
                        uid,
                        seq,
                        adapt_ts(d.timestamp),
                        d.actor,
                        d.action,
                        d.target,
                        d.correlation_id,
                        d.key_id,
                        d.payload,
                        prev,
                        chain_hash,
                        signature,
                        sig_key_id,
                    )
                )
                prev = chain_hash
            _insert_rows(cursor, rows)
        if seq != last_seq:
            cursor.execute(
                f"UPDATE {_HEAD} SET last_seq = %s, last_hash = %s, updated_at = %s WHERE id = 1",  # noqa: S608
                [seq, prev, ChainHead._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)],
            )
    return SealResult(sealed=seq - last_seq, first_seq=last_seq + 1, last_seq=seq, last_hash=prev)


def head_read() -> tuple[int, str]:
    """Return the last sealed ``(seq, hash)`` as the head row says."""
    head = ChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    return head if head is not None else (0, chain.GENESIS_HASH)
