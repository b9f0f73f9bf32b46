"""Seal batches into the chain under the head row's lock: links, signatures, the Merkle tree, the head MAC.

The sealer trusts nothing it did not write: a pending row whose MAC fails, and any row found
at or past the head's next seq, is quarantined (kept, never sealed, never deleted) and counted in
``audit_foreign_rows_total``; a head row whose MAC fails is rebuilt from the last entry that
carries a valid signature. So a foreign row is reported, never sealed, and never stops the trail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit import chain, metrics
from audit.checkpoints import head_append
from audit.merkle import Frontier, ProofUnavailable, leaf_hash
from audit.models import SEALED_FIELDS, AuditArchive, AuditEntry, ChainHead
from audit.services import Draft
from audit.tree import nodes_store, tree_reader
from core import keyring

log = logging.getLogger("resync.audit")
_BULK = 500


@dataclass(frozen=True, slots=True)
class SealResult:
    """What one sealing transaction did."""

    sealed: int
    first_seq: int
    last_seq: int
    last_hash: str
    root: str = ""
    quarantined: int = 0


def _locked_head() -> ChainHead:
    # The head row's lock is what keeps the chain linear across processes and machines.
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # A fresh database, or a lost head row: the MAC check rebuilds it from the last genuine entry.
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
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


def pending_genuine(row: AuditEntry) -> bool:
    """Return whether a pending row carries the recorder's MAC over its content and identity."""
    body = chain.pending_body(
        uid=row.uid.hex if hasattr(row.uid, "hex") else str(row.uid).replace("-", ""),
        timestamp=row.timestamp,
        actor=row.actor,
        action=row.action,
        target=row.target,
        correlation_id=row.correlation_id,
        key_id=row.key_id,
        payload=row.payload,
    )
    return bool(row.pending_mac) and keyring.pending_mac_valid(body, row.pending_mac)


# The sealing transaction is the hot path of every writer: it speaks SQL directly
# (a few statements per batch) instead of paying the ORM's per-query compile cost.
_ENTRY = AuditEntry._meta.db_table
_HEAD = ChainHead._meta.db_table
_INSERT_COLUMNS = ("uid", *SEALED_FIELDS, "pending_mac")


def _head_row(cursor: Any) -> tuple[int, str, str, str, bool, int]:
    # One round trip: lock the head, learn whether pending rows wait and where the highest seq is.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    cursor.execute(
        f"SELECT last_seq, last_hash, frontier, head_mac, "  # noqa: S608 — fixed names
        f"EXISTS (SELECT 1 FROM {_ENTRY} WHERE seq IS NULL AND quarantined_at IS NULL), "
        f"(SELECT MAX(seq) FROM {_ENTRY}) FROM {_HEAD} WHERE id = 1{lock}"
    )
    found = cursor.fetchone()
    if found is not None:
        return int(found[0]), str(found[1]), str(found[2]), str(found[3]), bool(found[4]), int(found[5] or 0)
    _locked_head()
    return _head_row(cursor)


def _genuine_tip() -> tuple[int, str]:
    """Return the highest entry whose hash and signature hold (or the archive anchor, or genesis)."""
    rows = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").values_list(*SEALED_FIELDS)
    for row in rows.iterator(chunk_size=100):
        seq, stored, signature, sig_key_id = row[0], row[9], row[10], row[11]
        if chain.sealed_row_hash(row) == stored and keyring.verify_signature(
            stored.encode(), key_id=sig_key_id, signature=signature
        ):
            return int(seq), str(stored)
    archive = AuditArchive.objects.order_by("-last_seq").first()
    return (archive.last_seq, archive.last_hash) if archive is not None else (0, chain.GENESIS_HASH)


def _head_rebuild(claimed_seq: int, had_mac: bool) -> tuple[int, str, Frontier]:
    seq, last_hash = _genuine_tip()
    if had_mac:
        log.critical(
            "audit: chain head row fails its MAC (claimed seq %s): continuing from the last genuine entry, seq %s",
            claimed_seq,
            seq,
        )
    reader = tree_reader()
    try:
        frontier = reader.frontier(seq)
    except ProofUnavailable as exc:
        # The tree cannot be recomputed (rows deleted): keep sealing; verification reports the break.
        log.critical("audit: Merkle tree not rebuilt at seq %s: %s", seq, exc)
        frontier = Frontier(size=seq, hashes=[bytes(32)] * bin(seq).count("1"))
    nodes_store((level, index, value) for (level, index), value in reader.computed.items())
    return seq, last_hash, frontier


def _quarantine(cursor: Any, *, above_seq: int | None = None, ids: Sequence[int] = ()) -> int:
    now = AuditEntry._meta.get_field("quarantined_at").get_db_prep_save(timezone.now(), connection)
    moved = 0
    if above_seq is not None:
        cursor.execute(
            f"UPDATE {_ENTRY} SET foreign_seq = seq, seq = NULL, quarantined_at = %s WHERE seq > %s",  # noqa: S608
            [now, above_seq],
        )
        moved += cursor.rowcount
    if ids:
        moved += AuditEntry.objects.filter(pk__in=ids).update(quarantined_at=timezone.now())
    if moved:
        metrics.foreign_rows_total.inc(moved)
        log.error("audit: %s foreign rows quarantined (never sealed): see audit_verify", moved)
    return moved


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


def _seal_pending(cursor: Any, seq: int, prev: str, tree: Frontier, nodes: list[Any]) -> tuple[int, str, int]:
    pending = list(AuditEntry.objects.filter(seq__isnull=True, quarantined_at__isnull=True).order_by("id"))
    genuine = [row for row in pending if pending_genuine(row)]
    foreign = len(pending) - len(genuine)
    if foreign:
        sealable = {row.pk for row in genuine}
        _quarantine(cursor, ids=[row.pk for row in pending if row.pk not in sealable])
    for row in genuine:
        seq += 1
        row.seq, row.prev_hash = seq, prev
        row.hash, row.sig_key_id, row.signature = _link(row, seq, prev)
        prev = row.hash
        tree.append(leaf_hash(prev), nodes)
    AuditEntry.objects.bulk_update(genuine, ["seq", "prev_hash", "hash", "signature", "sig_key_id"], batch_size=_BULK)
    return seq, prev, foreign


@transaction.atomic
def _seal_locked(drafts: Sequence[Draft], check_duplicates: bool) -> SealResult:
    with connection.cursor() as cursor:
        last_seq, prev, frontier_text, head_mac, has_pending, max_seq = _head_row(cursor)
        tree = Frontier.load(last_seq, frontier_text)
        body = chain.head_body(last_seq=last_seq, last_hash=prev, frontier=frontier_text)
        if not (head_mac and tree.well_formed() and keyring.pending_mac_valid(body, head_mac)):
            last_seq, prev, tree = _head_rebuild(last_seq, had_mac=bool(head_mac))
        quarantined = _quarantine(cursor, above_seq=last_seq) if max_seq > last_seq else 0
        seq, nodes = last_seq, list[tuple[int, int, bytes]]()
        if has_pending:
            seq, prev, foreign = _seal_pending(cursor, seq, prev, tree, nodes)
            quarantined += foreign
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
                        "",  # sealed in this transaction: never pending, so no MAC
                    )
                )
                prev = chain_hash
                tree.append(leaf_hash(prev), nodes)
            _insert_rows(cursor, rows)
        nodes_store(nodes)
        if seq != last_seq or frontier_text != tree.dump() or not head_mac:
            text = tree.dump()
            cursor.execute(
                f"UPDATE {_HEAD} SET last_seq = %s, last_hash = %s, frontier = %s, head_mac = %s, "  # noqa: S608
                "updated_at = %s WHERE id = 1",
                [
                    seq,
                    prev,
                    text,
                    keyring.pending_mac(chain.head_body(last_seq=seq, last_hash=prev, frontier=text)),
                    ChainHead._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection),
                ],
            )
    return SealResult(
        sealed=seq - last_seq,
        first_seq=last_seq + 1,
        last_seq=seq,
        last_hash=prev,
        root=tree.root().hex(),
        quarantined=quarantined,
    )


def entries_seal(*, drafts: Sequence[Draft], check_duplicates: bool = False) -> SealResult:
    """Seal committed genuine pending entries, then ``drafts``, in one transaction; then sign the new tree head."""
    result = _seal_locked(drafts, check_duplicates)
    if result.sealed:
        # After the commit: a head for a batch that rolled back would accuse the database of truncation.
        head_append(from_size=result.first_seq - 1, size=result.last_seq, root=result.root, last_hash=result.last_hash)
    return result
