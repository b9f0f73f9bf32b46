"""Verify the chain: every link, hash, signature and payload; gaps, insertions, reordering, truncation."""

from __future__ import annotations

import binascii
import hmac
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection
from django.db.models.expressions import RawSQL

from audit import chain, conf, metrics
from audit.checkpoints import checkpoints_read
from audit.models import SEALED_FIELDS, AuditArchive, AuditEntry, ChainHead
from core import keyring
from core.errors import KeyRingError

log = logging.getLogger("resync.audit")

Row = tuple[int, Any, str, str, str, str, str, str, str, str, str, str]
ROW_FIELDS = SEALED_FIELDS


@dataclass
class VerifyReport:
    """The outcome of one verification."""

    ok: bool = True
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_bad_seq: int | None = None
    problem: str = ""
    pending: int = 0
    checkpoint_seq: int | None = None
    elapsed_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, problem: str) -> None:
        """Mark the report failed at ``seq`` (the first failure wins)."""
        if self.ok:
            self.ok, self.first_bad_seq, self.problem = False, seq, problem

    def summary(self) -> str:
        """Return one line an operator reads."""
        if self.ok:
            span = f"seq {self.first_seq}..{self.last_seq}" if self.checked else "no sealed entries"
            return f"audit chain OK: {self.checked} entries verified ({span}), {self.pending} pending"
        where = f"at seq {self.first_bad_seq}" if self.first_bad_seq is not None else "in the checkpoint store"
        return f"audit chain BROKEN {where}: {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {**asdict(self), "summary": self.summary()}


class ChainWalker:
    """Check entries one by one, in seq order, against the previous one."""

    def __init__(self, report: VerifyReport, *, expected_seq: int, prev_hash: str, anchored: bool = True) -> None:
        self.report, self.expected, self.prev, self.anchored = report, expected_seq, prev_hash, anchored
        self.marks: dict[int, str] = {}  # seq -> hash a signed checkpoint says it must have
        # One snapshot of the ring for the whole walk: verification is a hot loop.
        ring = keyring.load_keyring()
        self._signing = dict(ring.signing.keys)
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.encryption.keys.items()}

    def _signed(self, chain_hash: str, key_id: str, signature: str) -> bool:
        key = self._signing.get(key_id)
        if key is None:
            return keyring.verify_signature(chain_hash.encode(), key_id=key_id, signature=signature)
        return hmac.compare_digest(hmac.digest(key, chain_hash.encode(), "sha256").hex(), signature)

    def _decrypts(self, token: str) -> str:
        key_id, _, body = token.partition("$")
        cipher = self._ciphers.get(key_id)
        try:
            if cipher is None:
                keyring.decrypt_bytes(token)
            else:
                raw = binascii.a2b_base64(body, strict_mode=True)
                cipher.decrypt(raw[:12], raw[12:], b"")
        except (KeyRingError, binascii.Error, ValueError, InvalidTag) as exc:
            return f"payload does not decrypt under key {key_id!r}: {type(exc).__name__}"
        return ""

    def feed(self, row: Row) -> bool:
        """Check one row; return False once the chain is broken."""
        seq, moment, actor, action, target, cid, key_id, payload, prev_hash, stored, signature, sig_key_id = row
        report = self.report
        if not self.anchored:  # --from N: trust the first row's link, check everything else
            self.expected, self.prev, self.anchored = seq, prev_hash, True
        if seq != self.expected:
            report.fail(self.expected, f"entries {self.expected}..{seq - 1} are missing (deleted)")
            return False
        computed = chain.entry_hash(
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
        if computed != stored:
            report.fail(seq, "entry altered: its content does not match its hash (changed, swapped or inserted)")
            return False
        if prev_hash != self.prev:
            report.fail(seq, "link broken: previous hash does not match the entry before (reordered or inserted)")
            return False
        if not self._signed(stored, sig_key_id, signature):
            report.fail(seq, f"signature invalid under signing key {sig_key_id!r} (forged or inserted)")
            return False
        if keyring.key_id_of(payload) != key_id:
            report.fail(seq, "payload key id does not match the recorded key id")
            return False
        undecryptable = self._decrypts(payload)
        if undecryptable:
            report.fail(seq, undecryptable)
            return False
        mark = self.marks.get(seq)
        if mark is not None and mark != stored:
            report.fail(seq, "entry differs from a signed checkpoint (chain rewritten)")
            return False
        if report.first_seq is None:
            report.first_seq = seq
        report.last_seq, report.checked = seq, report.checked + 1
        self.prev, self.expected = stored, seq + 1
        return True


def _anchor(report: VerifyReport) -> tuple[int, str]:
    archive = AuditArchive.objects.order_by("-last_seq").first()
    if archive is None:
        return 1, chain.GENESIS_HASH
    document = archive_anchor_document(archive)
    if not chain.document_signed({**document, "signature": archive.signature, "sig_key_id": archive.sig_key_id}):
        report.fail(archive.last_seq, f"archive record #{archive.first_seq}-#{archive.last_seq} has a bad signature")
    return archive.last_seq + 1, archive.last_hash


def archive_anchor_document(archive: AuditArchive) -> dict[str, Any]:
    """Return the signed fields of an archive record."""
    return {
        "first_seq": archive.first_seq,
        "last_seq": archive.last_seq,
        "first_prev_hash": archive.first_prev_hash,
        "last_hash": archive.last_hash,
        "count": archive.count,
        "file_name": archive.file_name,
        "file_sha256": archive.file_sha256,
    }


def _rows(start: int) -> Iterable[Row]:
    # The timestamp comes as epoch microseconds (PostgreSQL) or ISO text (SQLite): parsing it
    # into a datetime per row would cost more than hashing the entry.
    queryset = AuditEntry.objects.filter(seq__gte=start).order_by("seq")
    if connection.vendor == "postgresql":
        micros = RawSQL("(EXTRACT(EPOCH FROM timestamp) * 1000000)::bigint", [])
        fields = ["ts_us" if name == "timestamp" else name for name in ROW_FIELDS]
        return queryset.annotate(ts_us=micros).values_list(*fields).iterator(chunk_size=5000)
    if connection.vendor == "sqlite":
        return _sqlite_rows(start)
    return queryset.values_list(*ROW_FIELDS).iterator(chunk_size=5000)


def _sqlite_rows(start: int) -> Iterable[Row]:
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ROW_FIELDS)} FROM {table} WHERE seq >= %s ORDER BY seq",  # noqa: S608 — fixed names
            [start],
        )
        while batch := cursor.fetchmany(5000):
            yield from batch


def chain_verify(*, from_seq: int | None = None) -> VerifyReport:
    """Verify the live chain (from ``from_seq`` or its anchor) against itself, the head row and checkpoints."""
    started = time.perf_counter()
    report = VerifyReport()
    start, prev = _anchor(report)
    walker = ChainWalker(report, expected_seq=start, prev_hash=prev, anchored=from_seq is None or from_seq <= start)
    if from_seq is not None and from_seq > start:
        start = from_seq
    checkpoints, forged = checkpoints_read()
    walker.marks = {c.seq: c.hash for c in checkpoints}
    for row in _rows(start):
        if not walker.feed(row):
            break
    last_seen = walker.expected - 1
    if report.ok:
        head, head_hash = ChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first() or (0, "")
        newest = checkpoints[0].seq if checkpoints else 0
        report.checkpoint_seq = newest or None
        if newest > last_seen:
            report.fail(
                last_seen + 1,
                f"tail truncated: entries after seq {last_seen} are missing (signed checkpoint at seq {newest})",
            )
        elif head > last_seen:
            report.fail(
                last_seen + 1, f"tail truncated: entries after seq {last_seen} are missing (chain head at seq {head})"
            )
        elif head == last_seen and last_seen and head_hash != walker.prev and from_seq is None:
            report.fail(last_seen + 1, "chain head row altered: its hash differs from the last entry's")
        elif forged:
            report.fail(None, f"checkpoint store tampered: {', '.join(forged[:5])} fail their signature")
    report.pending = AuditEntry.objects.filter(seq__isnull=True).count()
    report.elapsed_seconds = round(time.perf_counter() - started, 4)
    _remember(report)
    return report


def _remember(report: VerifyReport) -> None:
    if not report.ok:
        metrics.verify_failures_total.inc()
        log.error("audit: %s", report.summary(), extra={"first_bad_seq": report.first_bad_seq})
    else:
        log.info("audit: %s", report.summary())
    path = conf.checkpoint_dir() / "last-verification.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**report.as_dict(), "at": chain.format_timestamp(datetime.now().astimezone())}))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("audit: last verification result not stored: %s", exc)


def last_verification() -> dict[str, Any] | None:
    """Return the stored result of the last verification in any process, if any."""
    path: Path = conf.checkpoint_dir() / "last-verification.json"
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) else None
