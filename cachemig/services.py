"""Changes to feature flags: each one atomic, with its RolloutEvent and audit entry in the same transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from audit.services import actor_label
from cachemig import conf, flags
from cachemig.exceptions import FlagInvalid, FlagNotFound, GateRefused
from cachemig.flags.registry import GuardReport
from cachemig.metrics import FLAG_AUTO_ROLLBACKS, FLAG_CHANGES
from cachemig.models import FeatureFlag, RolloutEvent
from core.context import get_correlation_id

log = logging.getLogger("resync.flags")
State = FeatureFlag.State
Kind = RolloutEvent.Kind


@dataclass(frozen=True)
class RolloutOutcome:
    """What a rollout did (or, for a dry run or a refusal, would do) and the gate figures behind it."""

    flag: str
    from_percent: int
    to_percent: int
    gate_ok: bool
    gate_reason: str
    figures: dict[str, float] = field(default_factory=dict)
    forced: bool = False
    dry_run: bool = False
    applied: bool = False

    def describe(self) -> str:
        """Return a one-line account for operators."""
        figures = ", ".join(f"{k}={v:g}" for k, v in sorted(self.figures.items())) or "no figures"
        verb = "would advance" if not self.applied else "advanced"
        return f"{self.flag}: {verb} {self.from_percent}% -> {self.to_percent}%; gates: {self.gate_reason} [{figures}]"


def _locked(name: str) -> FeatureFlag:
    try:
        return FeatureFlag.objects.select_for_update().get(name=name)
    except FeatureFlag.DoesNotExist:
        raise FlagNotFound(f"no feature flag named {name!r}") from None


def _refresh_everywhere() -> None:
    # This thread sees its own write at once; every thread of this process after
    # the commit; other processes within CACHEMIG_FLAGS_REFRESH_SECONDS.
    flags.invalidate()
    transaction.on_commit(flags.invalidate)


def _record(
    flag: FeatureFlag,
    *,
    kind: str,
    before: tuple[str, int],
    actor: Any,
    reason: str,
    figures: dict[str, float] | None = None,
    forced: bool = False,
    extra: dict[str, Any] | None = None,
) -> RolloutEvent:
    event = RolloutEvent.objects.create(
        flag=flag if flag.pk else None,
        flag_name=flag.name,
        kind=kind,
        from_state=before[0],
        from_percent=before[1],
        to_state=flag.state,
        to_percent=flag.exposure,
        actor=actor_label(actor),
        reason=reason,
        figures=figures or {},
        forced=forced,
        correlation_id=get_correlation_id() or "",
    )
    audit.record(
        f"flag.{kind}",
        actor=actor,
        target=f"flag:{flag.name}",
        data={
            "from": {"state": before[0], "percent": before[1]},
            "to": {"state": flag.state, "percent": flag.exposure},
            "reason": reason,
            "figures": figures or {},
            "forced": forced,
            **(extra or {}),
        },
    )
    transaction.on_commit(lambda: FLAG_CHANGES.labels(flag=flag.name, kind=kind).inc())
    _refresh_everywhere()
    return event


def _move(flag: FeatureFlag, *, state: str, percent: int, actor: Any, reason: str) -> tuple[str, int]:
    before = (flag.state, flag.exposure)
    flag.state = state
    flag.percent = 100 if state == State.ON else 0 if state == State.OFF else percent
    if flag.exposure != before[1]:
        flag.stage_started_at = timezone.now()
    flag.updated_by = actor_label(actor)
    flag.reason = reason
    flag.save()
    return before


@transaction.atomic
def flag_rollout(
    *, name: str, to: int | None = None, force: bool = False, dry_run: bool = False, acting_user: Any, reason: str = ""
) -> RolloutOutcome:
    """Advance ``name`` to its next stage (or ``to``) if its gates pass, or anyway with ``force``."""
    flag = _locked(name)
    current = flag.exposure
    target = flags.next_stage(name=name, current=current, stages=flag.stages, to=to)
    report, gate_ok, gate_reason = flags.rollout_gate(name, current=current)
    outcome = RolloutOutcome(
        flag=name,
        from_percent=current,
        to_percent=target,
        gate_ok=gate_ok,
        gate_reason=gate_reason,
        figures=dict(report.figures) if report else {},
        forced=force and not gate_ok,
        dry_run=dry_run,
    )
    if dry_run:
        return outcome
    if not gate_ok and not force:
        raise GateRefused(f"rollout of {outcome.describe()}; refused (use --force to override)", report=report)
    reason = reason or f"advance to {target}%"
    before = _move(
        flag, state=State.ON if target == 100 else State.PERCENTAGE, percent=target, actor=acting_user, reason=reason
    )
    _record(
        flag,
        kind=Kind.ROLLOUT,
        before=before,
        actor=acting_user,
        reason=reason,
        figures=outcome.figures,
        forced=outcome.forced,
        extra={"gate": gate_reason},
    )
    return RolloutOutcome(**{**outcome.__dict__, "applied": True})


@transaction.atomic
def flag_rollback(*, name: str, reason: str, acting_user: Any) -> RolloutEvent:
    """Turn ``name`` off for every key in one step."""
    flag = _locked(name)
    reason = reason or "manual rollback"
    before = _move(flag, state=State.OFF, percent=0, actor=acting_user, reason=reason)
    return _record(flag, kind=Kind.ROLLBACK, before=before, actor=acting_user, reason=reason)


@transaction.atomic
def flag_auto_rollback(*, name: str, report: GuardReport) -> RolloutEvent | None:
    """Roll ``name`` back because its guard is breached; the event and an ERROR log line are the alert."""
    flag = _locked(name)
    if flag.exposure == 0:
        return None
    reason = f"auto: {report.reason or 'guard breached'}"
    before = _move(flag, state=State.OFF, percent=0, actor=None, reason=reason)
    event = _record(flag, kind=Kind.AUTO_ROLLBACK, before=before, actor=None, reason=reason, figures=report.figures)

    def alert() -> None:
        FLAG_AUTO_ROLLBACKS.labels(flag=name).inc()
        log.error(
            "ALERT flag %s rolled back automatically from %s%%: %s",
            name,
            before[1],
            reason,
            extra={"flag": name, "figures": report.figures, "event_id": event.pk},
        )

    transaction.on_commit(alert)
    return event


@transaction.atomic
def flag_set(
    *, name: str, state: str, percent: int = 0, acting_user: Any, reason: str, forced: bool = False
) -> RolloutEvent:
    """Set ``name`` to a state (and percentage) directly, without gates (admin edits)."""
    if state not in State.values:
        raise FlagInvalid(f"state must be one of {', '.join(State.values)}, not {state!r}")
    if not 0 <= percent <= 100:
        raise FlagInvalid(f"percent must be between 0 and 100, not {percent}")
    flag = _locked(name)
    before = _move(flag, state=state, percent=percent, actor=acting_user, reason=reason)
    return _record(flag, kind=Kind.SET, before=before, actor=acting_user, reason=reason, forced=forced)


def _validated(flag: FeatureFlag) -> None:
    try:
        flag.full_clean(exclude=["updated_at"], validate_unique=True)
    except ValidationError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise FlagInvalid(details) from None


@transaction.atomic
def flag_create(
    *,
    name: str,
    description: str = "",
    rollout_plan: str = "10,25,50,100",
    group_id: str = "",
    guard: str = "",
    acting_user: Any,
    reason: str = "",
) -> FeatureFlag:
    """Create flag ``name``, off."""
    flag = FeatureFlag(
        name=name,
        description=description,
        rollout_plan=rollout_plan,
        group_id=group_id,
        guard=guard,
        updated_by=actor_label(acting_user),
        reason=reason or "created",
    )
    _validated(flag)
    flag.save()
    _record(flag, kind=Kind.CREATE, before=("", 0), actor=acting_user, reason=flag.reason)
    return flag


EDITABLE = ("description", "rollout_plan", "group_id", "guard")


@transaction.atomic
def flag_update(*, name: str, changes: dict[str, str], acting_user: Any, reason: str = "") -> FeatureFlag:
    """Edit the description, plan, bucketing group or guard note of ``name`` (never its state)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise FlagInvalid(f"only {', '.join(EDITABLE)} can be edited here, not {', '.join(sorted(unknown))}")
    flag = _locked(name)
    changed = {k: {"from": getattr(flag, k), "to": v} for k, v in changes.items() if getattr(flag, k) != v}
    if not changed:
        return flag
    for key, value in changes.items():
        setattr(flag, key, value)
    _validated(flag)
    flag.updated_by = actor_label(acting_user)
    flag.reason = reason or f"edited {', '.join(sorted(changed))}"
    flag.save()
    before = (flag.state, flag.exposure)
    _record(flag, kind=Kind.UPDATE, before=before, actor=acting_user, reason=flag.reason, extra={"changed": changed})
    return flag


@transaction.atomic
def flag_delete(*, name: str, acting_user: Any, reason: str = "") -> None:
    """Delete flag ``name``; its history stays (events keep the name)."""
    flag = _locked(name)
    before = (flag.state, flag.exposure)
    flag.delete()
    flag.state, flag.percent = State.OFF, 0
    _record(flag, kind=Kind.DELETE, before=before, actor=acting_user, reason=reason or "deleted")


def guards_sweep() -> list[tuple[str, GuardReport]]:
    """Evaluate the guard of every exposed flag and roll back those breached; return the breaches."""
    breached: list[tuple[str, GuardReport]] = []
    exposed = FeatureFlag.objects.exclude(state=State.OFF).exclude(state=State.PERCENTAGE, percent=0)
    for name in exposed.values_list("name", flat=True):
        report = flags.evaluate_guard(name)
        if report is None or report.ok:
            continue
        breached.append((name, report))
        if conf.auto_rollback_enabled():
            flag_auto_rollback(name=name, report=report)
        else:
            log.error("flag %s: guard breached (%s) but CACHEMIG_AUTO_ROLLBACK is off", name, report.reason)
    return breached
