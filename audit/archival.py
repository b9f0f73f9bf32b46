"""Move old entries to signed, compressed archive files that verify on their own."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from audit import chain, conf
from audit.checkpoints import store_read, tree_head_checked
from audit.merkle import STORED_LEVEL, Frontier, ProofUnavailable
from audit.models import AuditArchive, AuditEntry
from audit.sealing import _locked_head
from audit.tree import nodes_store, tree_reader
from audit.verification import ROW_FIELDS, ChainWalker, VerifyReport, archive_anchor_document

log = logging.getLogger("resync.audit")
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    """One archive written."""

    path: Path
    first_seq: int
    last_seq: int
    count: int


def _row_document(row: tuple) -> dict[str, object]:
    document = dict(zip(ROW_FIELDS, row, strict=True))
    document["timestamp"] = chain.format_timestamp(row[1])
    return document


def archive_cutoff(*, older_than_days: int | None = None) -> datetime:
    """Return the moment before which entries are archived."""
    days = int(older_than_days if older_than_days is not None else conf.get("AUDIT_RETENTION_DAYS"))
    return timezone.now() - timedelta(days=days)


def _tree_for_archive(first: int, last: int) -> dict[str, object]:
    """Keep the tree nodes the cut leaves need; return the tree facts the archive carries."""
    reader = tree_reader()
    try:
        before = reader.frontier(first - 1)
        # The cut ends inside a block of 2**STORED_LEVEL leaves: keep its archived part's subtrees,
        # which proofs of the entries still live beside them, and the frontier at the cut, need.
        block_start = last >> STORED_LEVEL << STORED_LEVEL
        start, kept = block_start, []
        for level in range(STORED_LEVEL - 1, -1, -1):
            if (last - block_start) >> level & 1:
                kept.append((level, start >> level, reader.perfect(level, start >> level)))
                start += 1 << level
        nodes_store(kept)
        nodes_store((level, index, value) for (level, index), value in reader.computed.items())
    except ProofUnavailable as exc:
        log.warning("audit: archive %s..%s carries no tree frontier: %s", first, last, exc)
        return {"tree_frontier_before": None}
    heads = [h.document() for h in store_read().heads if first <= h.size <= last]
    return {"tree_frontier_before": before.dump(), "tree_heads": heads}


@transaction.atomic
def entries_archive(
    *, older_than_days: int | None = None, limit: int = 100_000, cutoff: datetime | None = None
) -> ArchiveResult | None:
    """Write the oldest sealed entries older than ``cutoff`` (default: past retention) to one archive file."""
    _locked_head()  # no sealing while the cut is made
    cutoff = cutoff or archive_cutoff(older_than_days=older_than_days)
    previous = AuditArchive.objects.order_by("-last_seq").first()
    start = previous.last_seq + 1 if previous else 1
    rows = list(
        AuditEntry.objects.filter(seq__gte=start, seq__lt=start + limit).order_by("seq").values_list(*ROW_FIELDS)
    )
    # Only a prefix of the chain is cut: the first entry younger than retention ends it.
    cut: list[tuple] = []
    for row in rows:
        if row[1] >= cutoff or row[0] != start + len(cut):
            break
        cut.append(row)
    if not cut:
        return None
    directory = conf.archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    first, last = cut[0][0], cut[-1][0]
    path = directory / f"audit-{first:012d}-{last:012d}.jsonl.gz"
    digest = hashlib.sha256()
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for row in cut:
            line = (json.dumps(_row_document(row), separators=(",", ":")) + "\n").encode()
            handle.write(line)
        handle.flush()
    digest.update(path.read_bytes())
    manifest = chain.sign_document(
        {
            "first_seq": first,
            "last_seq": last,
            "first_prev_hash": cut[0][8],
            "last_hash": cut[-1][9],
            "count": len(cut),
            "file_name": path.name,
            "file_sha256": digest.hexdigest(),
            "created_at": chain.format_timestamp(timezone.now()),
            **_tree_for_archive(first, last),
        }
    )
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    for written in (path, manifest_path):
        with open(written, "rb") as handle:
            os.fsync(handle.fileno())
    record = AuditArchive(
        first_seq=first,
        last_seq=last,
        first_prev_hash=manifest["first_prev_hash"],
        last_hash=manifest["last_hash"],
        count=len(cut),
        file_name=path.name,
        file_sha256=manifest["file_sha256"],
        created_at=timezone.now(),
    )
    signed = chain.sign_document(archive_anchor_document(record))
    record.signature, record.sig_key_id = signed["signature"], signed["sig_key_id"]
    record.save()
    AuditEntry.objects.filter(seq__gte=first, seq__lte=last).delete()
    log.info("audit: archived seq %s..%s (%s entries) to %s", first, last, len(cut), path)
    return ArchiveResult(path=path, first_seq=first, last_seq=last, count=len(cut))


def archive_verify(path: Path) -> VerifyReport:
    """Verify one archive file against its manifest: signature, digest, chain, signatures, payloads."""
    report = VerifyReport()
    manifest_path = path if path.name.endswith(MANIFEST_SUFFIX) else path.with_name(path.name + MANIFEST_SUFFIX)
    data_path = manifest_path.with_name(manifest_path.name.removesuffix(MANIFEST_SUFFIX))
    try:
        manifest = json.loads(manifest_path.read_text())
        content = data_path.read_bytes()
    except (OSError, ValueError) as exc:
        report.fail(None, f"archive unreadable: {exc}")
        return report
    if not isinstance(manifest, dict) or not chain.document_signed(manifest):
        report.fail(None, "manifest signature invalid (manifest altered or forged)")
        return report
    if hashlib.sha256(content).hexdigest() != manifest["file_sha256"]:
        report.fail(None, "archive file altered: its SHA-256 differs from the signed manifest")
        return report
    first = int(manifest["first_seq"])
    walker = ChainWalker(report, expected_seq=first, prev_hash=str(manifest["first_prev_hash"]))
    if manifest.get("tree_frontier_before") is not None:
        # The archive checks its own entries against the signed tree heads it carries.
        walker.tree = Frontier.load(first - 1, str(manifest["tree_frontier_before"]))
        for document in manifest.get("tree_heads", []):
            head = tree_head_checked(document, report)
            if head is not None:
                walker.heads.setdefault(head.size, []).append(head)
    for line in gzip.decompress(content).splitlines():
        doc = json.loads(line)
        if not walker.feed(tuple(doc[name] for name in ROW_FIELDS)):
            return report
    if report.last_seq != manifest["last_seq"] or walker.prev != manifest["last_hash"]:
        report.fail((report.last_seq or 0) + 1, f"archive truncated: manifest ends at seq {manifest['last_seq']}")
    return report
