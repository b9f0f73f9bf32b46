"""REST endpoints of cachemig (mounted by resync_site/api.py at /api/flags); admins only."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from cachemig import selectors, services
from core.permissions import require

router = Router(tags=["flags"])
PERMISSION = "cachemig.change_featureflag"


class FlagOut(Schema):
    name: str
    state: str
    percent: int
    plan: str
    override: str
    guard_status: str
    guard_figures: dict[str, float]
    updated_at: datetime | None
    updated_by: str
    reason: str


class RolloutIn(Schema):
    to: int | None = Field(default=None, ge=1, le=100)
    force: bool = False
    dry_run: bool = False
    reason: str = ""


class RolloutOut(Schema):
    flag: str
    from_percent: int
    to_percent: int
    gate_ok: bool
    gate_reason: str
    figures: dict[str, float]
    forced: bool
    dry_run: bool
    applied: bool


class RollbackIn(Schema):
    reason: str = "rollback via API"


class RollbackOut(Schema):
    flag: str
    from_percent: int
    to_percent: int
    reason: str


@router.get("", response=list[FlagOut], summary="Every flag with its override and guard status")
def flag_list(request: HttpRequest) -> list[selectors.FlagRow]:
    """Return every flag."""
    require(request, PERMISSION)
    return selectors.flag_rows()


@router.post("/{name}/rollout", response=RolloutOut, summary="Advance to the next stage if the gates pass")
def flag_rollout(request: HttpRequest, name: str, payload: RolloutIn) -> services.RolloutOutcome:
    """Advance ``name`` (409 ``gate_refused`` with the figures when the gates refuse)."""
    require(request, PERMISSION)
    return services.flag_rollout(
        name=name,
        to=payload.to,
        force=payload.force,
        dry_run=payload.dry_run,
        acting_user=request.user,
        reason=payload.reason,
    )


@router.post("/{name}/rollback", response=RollbackOut, summary="Turn the flag off for everyone")
def flag_rollback(request: HttpRequest, name: str, payload: RollbackIn | None = None) -> dict[str, object]:
    """Roll ``name`` back to 0%."""
    require(request, PERMISSION)
    reason = payload.reason if payload else "rollback via API"
    event = services.flag_rollback(name=name, reason=reason, acting_user=request.user)
    return {"flag": event.flag_name, "from_percent": event.from_percent, "to_percent": 0, "reason": event.reason}
