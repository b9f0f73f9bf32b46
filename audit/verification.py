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
from audit.checkpoints import StoreRead, TreeHead, store_read
from audit.merkle import Frontier, ProofUnavailable, leaf_hash
from audit.models import SEALED_FIELDS, AuditArchive, AuditEntry, ChainHead
from audit.sealing import pending_genuine
from audit.tree import stored_nodes, tree_reader
from core import keyring
from core.errors import KeyRingError

log = logging.getLogger("resync.audit")

Row = tuple[int, Any, str, str, str, str, str, str, str, str, str, str]
ROW_FIELDS = SEALED_FIELDS
MAX_FINDINGS = 1000


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
    quarantined: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    findings_total: int = 0

    def fail(self, seq: int | None, problem: str) -> None:
        """Add a finding at ``seq`` (None: not a position in the chain); the first one heads the summary."""
        if self.ok:
            self.ok, self.first_bad_seq, self.problem = False, seq, problem
        self.findings_total += 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append({"seq": seq, "problem": problem})

    def summary(self) -> str:
        """Return one line an operator reads."""
        if self.ok:
            span = f"seq {self.first_seq}..{self.last_seq}" if self.checked else "no sealed entries"
            return f"audit chain OK: {self.checked} entries verified ({span}), {self.pending} pending"
        where = f"at seq {self.first_bad_seq}" if self.first_bad_seq is not None else "outside the chain"
        more = f" (and {self.findings_total - 1} more findings)" if self.findings_total > 1 else ""
        return f"audit chain BROKEN {where}: {self.problem}{more}"

    def lines(self) -> list[str]:
        """Return one line per finding, each naming the seq it concerns."""
        lines = [f"seq {f['seq']}: {f['problem']}" if f["seq"] is not None else f["problem"] for f in self.findings]
        if self.findings_total > len(self.findings):
            lines.append(f"... {self.findings_total - len(self.findings)} more findings not listed")
        return lines

    def as_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {**asdict(self), "summary": self.summary()}


class ChainWalker:
    """Check entries one by one, in seq order, against the previous one; report each bad row and go on."""

    def __init__(self, report: VerifyReport, *, expected_seq: int, prev_hash: str, anchored: bool = True) -> None:
        self.report, self.expected, self.prev, self.anchored = report, expected_seq, prev_hash, anchored
        self.tree: Frontier | None = None  # the Merkle tree up to the row before, when it is checked
        self.heads: dict[int, list[TreeHead]] = {}  # tree size -> signed tree heads of that size
        self.nodes: dict[tuple[int, int], str] = {}  # stored perfect subtrees, compared as the walk completes them
        self._completed: list[tuple[int, int, bytes]] = []
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

    def _problem(self, row: Row, relinked: bool) -> str:
        key_id, payload, prev_hash, stored, signature, sig_key_id = row[6:12]
        if chain.sealed_row_hash(row) != stored:
            return "entry altered: its content does not match its hash (changed, swapped or inserted)"
        if prev_hash != self.prev and not relinked:
            return "link broken: previous hash does not match the entry before (reordered or inserted)"
        if not self._signed(stored, sig_key_id, signature):
            return f"signature invalid under signing key {sig_key_id!r} (forged or inserted)"
        if keyring.key_id_of(payload) != key_id:
            return "payload key id does not match the recorded key id"
        return self._decrypts(payload)

    def feed(self, row: Row) -> bool:
        """Check one row, report what is wrong with it, and carry on; return whether it was intact."""
        seq, stored = row[0], row[9]
        report = self.report
        if not self.anchored:  # --from N: trust the first row's link, check everything else
            self.expected, self.prev, self.anchored = seq, row[8], True
        relinked = False
        if seq != self.expected:
            report.fail(self.expected, f"entries {self.expected}..{seq - 1} are missing (deleted)")
            relinked = True  # the gap is the finding; the row itself is checked against its own link
            self._tree_stop(seq, "a gap in the sequence")
        problem = self._problem(row, relinked)
        if problem:
            report.fail(seq, problem)
        self._tree_feed(seq, stored)
        if report.first_seq is None:
            report.first_seq = seq
        report.last_seq, report.checked = seq, report.checked + 1
        self.prev, self.expected = stored, seq + 1
        return not problem

    def _tree_stop(self, seq: int, why: str) -> None:
        if self.tree is not None:
            self.tree = None
            self.report.warnings.append(f"Merkle tree not checked from seq {seq}: {why}")

    def _tree_feed(self, seq: int, stored: str) -> None:
        tree = self.tree
        if tree is None:
            return
        try:
            leaf = leaf_hash(stored)
        except ValueError:
            self._tree_stop(seq, "a hash that is not hexadecimal")
            return
        self._completed.clear()
        tree.append(leaf, self._completed)
        for level, index, value in self._completed:
            kept = self.nodes.get((level, index))
            if kept is not None and kept != value.hex():
                self.report.fail((index << level) + 1, f"stored Merkle node {level}/{index} differs (tree tampered)")
        for head in self.heads.get(seq, ()):
            if head.last_hash != stored or head.root != tree.root().hex():
                self.report.fail(
                    seq, f"entry differs from signed tree head #{head.n} of size {seq} (chain rewritten or replaced)"
                )


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


def _tree_start(walker: ChainWalker, start: int) -> None:
    try:
        walker.tree = tree_reader().frontier(start - 1)
    except ProofUnavailable as exc:
        walker.report.warnings.append(f"Merkle tree not checked: {exc}")
        return
    walker.nodes = stored_nodes()


def _heads_check(report: VerifyReport, store: StoreRead, last_seen: int, anchor: int) -> None:
    """Report entries no signed tree head covers, entries signed twice, and heads that reach past the table."""
    heads = store.heads
    if not heads:
        if last_seen > anchor:
            report.fail(
                anchor + 1, f"no signed tree head covers entries {anchor + 1}..{last_seen} (checkpoint store emptied)"
            )
        return
    newest = max(h.size for h in heads)
    if newest > last_seen:
        report.fail(
            last_seen + 1,
            f"tail truncated: entries after seq {last_seen} are missing (signed tree head at size {newest})",
        )
    # Until the store is pruned, its records start at the first entry; after, at its oldest record.
    pruned = store.segments >= int(conf.get("AUDIT_CHECKPOINT_KEEP"))
    covered = min(h.from_size for h in heads) if pruned else min(anchor, min(h.from_size for h in heads))
    if not conf.checkpoint_shared():
        return  # other machines' batches have their records in other stores: holes say nothing here
    for head in sorted(heads, key=lambda h: (h.from_size, h.size)):
        if head.from_size > covered:
            report.fail(
                covered + 1,
                f"entries {covered + 1}..{head.from_size} are covered by no signed tree head "
                "(checkpoint records deleted, or a crash between a commit and its record)",
            )
        elif head.from_size < covered:
            report.fail(
                head.from_size + 1,
                f"tail truncated and resealed: entries {head.from_size + 1}..{covered} were signed in earlier tree "
                f"heads and sealed again by record #{head.n} (rows removed and the head row rolled back)",
            )
        covered = max(covered, head.size)
    if last_seen > covered:
        report.fail(
            covered + 1,
            f"entries {covered + 1}..{last_seen} are covered by no signed tree head "
            "(newest checkpoint file deleted or cut, or a crash between a commit and its record)",
        )


def _unsealed_check(report: VerifyReport) -> None:
    """Report forged pending rows and every quarantined row (kept as evidence, never sealed)."""
    pending = AuditEntry.objects.filter(seq__isnull=True, quarantined_at__isnull=True).order_by("id")
    report.pending = 0
    for row in pending.iterator(chunk_size=1000):
        if pending_genuine(row):
            report.pending += 1
        else:
            report.fail(None, f"forged pending row id {row.pk} ({row.action} {row.target}): MAC invalid, not sealed")
    quarantined = AuditEntry.objects.filter(quarantined_at__isnull=False).order_by("id")
    report.quarantined = quarantined.count()
    for row in quarantined.iterator(chunk_size=1000):
        where = f"found at seq {row.foreign_seq}" if row.foreign_seq is not None else "written as pending"
        report.fail(
            row.foreign_seq,
            f"foreign row id {row.pk} quarantined ({where}, {row.action} {row.target}): the recorder did not write it",
        )


def chain_verify(*, from_seq: int | None = None) -> VerifyReport:
    """Verify the live chain (from ``from_seq`` or its anchor) against itself, the head row and the checkpoint store."""
    started = time.perf_counter()
    report = VerifyReport()
    start, prev = _anchor(report)
    whole = from_seq is None or from_seq <= start
    walker = ChainWalker(report, expected_seq=start, prev_hash=prev, anchored=whole)
    if not whole and from_seq is not None:
        start = from_seq
    try:
        store = store_read()
    except OSError as exc:
        store = StoreRead(problems=[(None, f"checkpoint store unreadable: {exc}")])
    for signed in store.heads:
        walker.heads.setdefault(signed.size, []).append(signed)
    if whole:
        _tree_start(walker, start)
    for row in _rows(start):
        walker.feed(row)
    last_seen = walker.expected - 1
    newest = max((h.size for h in store.heads), default=0)
    report.checkpoint_seq = newest or None
    head, head_hash = ChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first() or (0, "")
    if whole:
        _heads_check(report, store, last_seen, anchor=start - 1)
    if head > last_seen:
        report.fail(
            last_seen + 1, f"tail truncated: entries after seq {last_seen} are missing (chain head at seq {head})"
        )
    elif head == last_seen and last_seen and head_hash != walker.prev and whole:
        report.fail(last_seen + 1, "chain head row altered: its hash differs from the last entry's")
    for seq, problem in store.problems:
        report.fail(seq, problem)
    _unsealed_check(report)
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
