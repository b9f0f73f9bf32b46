"""REST endpoints of audit (mounted by resync_site/api.py at /api/audit)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

import audit
from audit.operations import chain_verify_recorded
from audit.selectors import entries_filter
from core import keyring
from core.permissions import require
from core.schemas import Page, PageIn

router = Router(tags=["audit"])


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
