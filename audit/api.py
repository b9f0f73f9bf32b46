"""REST endpoints of audit (mounted by resync_site/api.py at /api/audit)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

import audit
from audit.operations import chain_verify_recorded
from audit.proofs import consistency_build, receipt_build
from audit.selectors import entries_filter
from core import keyring
from core.permissions import require
from core.schemas import Page, PageIn

router = Router(tags=["audit"])
MAX_SEQ = 2**62  # inside the 64-bit integer of the seq column


class EntryFilters(PageIn):
    actor: str | None = None
    action: str | None = Field(None, description="an action, or a prefix ending in '.' (e.g. 'etl.')")
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    seq_from: int | None = Field(None, ge=1)
    search: str | None = None
    decrypt: bool = Field(False, description="include decrypted payloads (needs audit.decrypt_auditentry)")


class EntryOut(Schema):
    seq: int
    timestamp: datetime
    actor: str
    action: str
    target: str
    correlation_id: str
    key_id: str
    hash: str
    sig_key_id: str
    data: dict[str, Any] | None = None


class EntryPage(Page[EntryOut]):
    """A window of sealed entries."""


class VerifyIn(Schema):
    from_seq: int | None = Field(None, ge=1)


class FindingOut(Schema):
    seq: int | None
    problem: str


class VerifyOut(Schema):
    ok: bool
    summary: str
    checked: int
    first_seq: int | None
    last_seq: int | None
    first_bad_seq: int | None
    problem: str
    pending: int
    checkpoint_seq: int | None
    elapsed_seconds: float
    quarantined: int
    findings_total: int
    findings: list[FindingOut]
    warnings: list[str]


class TreeHeadOut(Schema):
    n: int = Field(description="record number in the checkpoint store")
    prev: str = Field(description="SHA-256 of the record before")
    from_size: int = Field(description="tree size before the sealing batch")
    size: int
    root: str
    last_hash: str
    timestamp: str
    key_id: str
    signature: str = Field(description="Ed25519, base64, over the canonical JSON of the other fields")


class ReceiptEntryOut(Schema):
    seq: int
    timestamp: str
    actor: str
    action: str
    target: str
    correlation_id: str
    key_id: str
    payload: str
    prev_hash: str
    hash: str


class ReceiptOut(Schema):
    version: int
    entry: ReceiptEntryOut
    leaf_index: int
    leaf_hash: str
    inclusion_proof: list[str]
    tree_head: TreeHeadOut


class SeqPath(Schema):
    seq: int = Field(..., ge=1, le=MAX_SEQ)


class ConsistencyIn(Schema):
    first: int = Field(..., ge=1, le=MAX_SEQ, description="size of the earlier signed tree head")
    second: int | None = Field(None, ge=1, le=MAX_SEQ, description="size of the later one (default: the newest)")


class ConsistencyOut(Schema):
    version: int
    first_size: int
    second_size: int
    first: TreeHeadOut | None
    second: TreeHeadOut
    proof: list[str]


@router.get("", response=EntryPage, summary="List sealed audit entries (admins)")
def entries_list(request: HttpRequest, filters: Query[EntryFilters]) -> dict[str, Any]:
    """Return one page of entries; payloads only with the decrypt permission, and that reading is audited."""
    require(request, "audit.export_auditentry")
    if filters.decrypt:
        require(request, "audit.decrypt_auditentry")
    queryset = entries_filter(
        actor=filters.actor,
        action=filters.action,
        target=filters.target,
        since=filters.since,
        until=filters.until,
        seq_from=filters.seq_from,
        search=filters.search,
    )
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    items = [
        {
            "seq": e.seq,
            "timestamp": e.timestamp,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "correlation_id": e.correlation_id,
            "key_id": e.key_id,
            "hash": e.hash,
            "sig_key_id": e.sig_key_id,
            "data": json.loads(keyring.decrypt(e.payload)) if filters.decrypt else None,
        }
        for e in page
    ]
    if filters.decrypt and page:
        audit.record(
            "audit.entries_viewed",
            actor=request.user,
            target=f"audit_entry:{page[0].seq}-{page[-1].seq}",
            data={"seqs": [e.seq for e in page], "via": "api"},
        )
    return {"count": queryset.count(), "items": items}


@router.post("/verify", response=VerifyOut, summary="Verify the audit chain now")
def chain_verify_now(request: HttpRequest, payload: VerifyIn | None = None) -> dict[str, Any]:
    """Verify the chain (from ``from_seq`` when given) and return the report; the run is itself audited."""
    require(request, "audit.verify_auditentry")
    report = chain_verify_recorded(actor=request.user, from_seq=payload.from_seq if payload else None)
    return report.as_dict()


ERRORS = {401: dict, 403: dict, 404: dict, 422: dict}


@router.get("/consistency", response={200: ConsistencyOut, **ERRORS}, summary="Consistency proof between tree heads")
def consistency_proof(request: HttpRequest, query: Query[ConsistencyIn]) -> dict[str, Any]:
    """Return the proof that the signed tree of ``first`` entries is a prefix of the tree of ``second``."""
    require(request, "audit.verify_auditentry")
    return consistency_build(first=query.first, second=query.second)


@router.get("/{seq}/receipt", response={200: ReceiptOut, **ERRORS}, summary="Receipt of one entry")
def entry_receipt(request: HttpRequest, where: Path[SeqPath]) -> dict[str, Any]:
    """Return the entry, its inclusion proof and the signed tree head (check with scripts/audit_verify_receipt)."""
    require(request, "audit.verify_auditentry")
    return receipt_build(seq=where.seq)
