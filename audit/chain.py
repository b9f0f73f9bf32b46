"""The chain's canonical encoding: what is hashed and signed for each entry, checkpoint and archive."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from core import keyring

GENESIS_HASH = "0" * 64
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def format_timestamp(moment: datetime) -> str:
    """Return the canonical UTC text of ``moment`` (microseconds, 'Z')."""
    return moment.astimezone(UTC).strftime(_TS_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Return the aware datetime of a canonical timestamp."""
    return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=UTC)


def timestamp_micros(moment: datetime | str | int) -> int:
    """Return microseconds since the epoch of an aware datetime, its ISO text (naive means UTC), or as is."""
    if isinstance(moment, int):
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def entry_hash(
    *,
    seq: int,
    timestamp: datetime | str | int,
    actor: str,
    action: str,
    target: str,
    correlation_id: str,
    key_id: str,
    payload: str,
    prev_hash: str,
) -> str:
    """Return the SHA-256 chain hash of one entry and the previous hash.

    The encoding is length-prefixed ("<len>:<value>" per field), so no two different
    entries encode alike, and it is cheap enough to verify tens of thousands a second.
    """
    s, t = str(seq), str(timestamp_micros(timestamp))
    canonical = (
        f"{len(s)}:{s}|{len(t)}:{t}|{len(actor)}:{actor}|{len(action)}:{action}|{len(target)}:{target}|"
        f"{len(correlation_id)}:{correlation_id}|{len(key_id)}:{key_id}|{len(payload)}:{payload}|{prev_hash}"
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def pending_body(
    *,
    uid: str,
    timestamp: datetime | str | int,
    actor: str,
    action: str,
    target: str,
    correlation_id: str,
    key_id: str,
    payload: str,
) -> bytes:
    """Return what a pending row's MAC covers: its identity and every field the seal will hash."""
    fields = (uid, str(timestamp_micros(timestamp)), actor, action, target, correlation_id, key_id, payload)
    return ("pending|" + "|".join(f"{len(value)}:{value}" for value in fields)).encode()


def head_body(*, last_seq: int, last_hash: str, frontier: str) -> bytes:
    """Return what the chain head row's MAC covers."""
    return f"head|{last_seq}|{last_hash}|{frontier}".encode()


def sign_hash(chain_hash: str) -> tuple[str, str]:
    """Return ``(signing key id, signature)`` of a chain hash."""
    return keyring.sign(chain_hash.encode())


def sign_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return ``document`` with ``sig_key_id`` and ``signature`` over its canonical JSON."""
    body = {k: v for k, v in document.items() if k not in ("signature", "sig_key_id")}
    key_id, signature = keyring.sign(_canonical(body))
    return {**body, "sig_key_id": key_id, "signature": signature}


def document_signed(document: dict[str, Any]) -> bool:
    """Return whether a document produced by :func:`sign_document` is intact."""
    body = {k: v for k, v in document.items() if k not in ("signature", "sig_key_id")}
    return keyring.verify_signature(
        _canonical(body), key_id=str(document.get("sig_key_id", "")), signature=str(document.get("signature", ""))
    )


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sealed_row_hash(row: tuple[Any, ...]) -> str:
    """Return the chain hash a row read as ``SEALED_FIELDS`` (seq, timestamp, ..., prev_hash first) should carry."""
    seq, moment, actor, action, target, cid, key_id, payload, prev_hash = row[:9]
    return entry_hash(
        seq=seq,
        timestamp=moment,
        actor=actor,
        action=action,
        target=target,
        correlation_id=cid,
        key_id=key_id,
        payload=payload,
        prev_hash=prev_hash,
    )
