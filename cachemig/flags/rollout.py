"""Rollout rules: the stage a flag advances to, and whether its gates let it."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from cachemig.conf import min_stage_seconds
from cachemig.exceptions import RolloutConflict
from cachemig.flags.evaluation import stage_started_at
from cachemig.flags.registry import GuardReport, evaluate_guard


def next_stage(*, name: str, current: int, stages: Sequence[int], to: int | None) -> int:
    """Return the percentage a rollout of ``name`` moves to from ``current`` (the next of ``stages`` unless ``to``)."""
    if to is not None:
        if not 0 < to <= 100:
            raise RolloutConflict(f"--to must be between 1 and 100, not {to}")
        if to <= current:
            raise RolloutConflict(f"{name} is already at {current}%: use rollback to go down to 0")
        return to
    later = [stage for stage in stages if stage > current]
    if not later:
        plan = ",".join(str(stage) for stage in stages)
        raise RolloutConflict(f"{name} is already at {current}%, the last stage of its plan ({plan})")
    return later[0]


def gate_verdict(report: GuardReport | None) -> tuple[bool, str]:
    """Return (may advance, why) for a rollout gate reading ``report``: no evidence is no pass."""
    if report is None:
        return False, "no guard registered for this flag: its gates cannot be checked"
    if not report.ok:
        return False, f"guard breached: {report.reason or 'no reason given'}"
    calls = report.figures.get("calls")
    if calls is None:
        return False, "no evidence: the guard reports no calls for this stage"
    min_calls = report.figures.get("min_calls", 1.0)
    if calls < max(min_calls, 1.0):
        return False, f"not enough calls since the last stage: {calls:g} < {max(min_calls, 1.0):g}"
    seconds = report.figures.get("seconds_at_stage")
    min_seconds = report.figures.get("min_stage_seconds", 0.0)
    if seconds is not None and seconds < min_seconds:
        return False, f"too soon: {seconds:.0f} s at this stage, the gate needs {min_seconds:.0f} s"
    return True, report.reason or "gates passed"


def rollout_gate(name: str, *, current: int) -> tuple[GuardReport | None, bool, str]:
    """Run the guard of ``name`` and return (its report, may advance, why); leaving 0 % is not gated."""
    report = evaluate_guard(name)
    if current == 0:
        return report, True, "first stage: nothing is exposed yet, no gate"
    if report is not None:
        started = stage_started_at(name)
        seconds = (timezone.now() - started).total_seconds() if started else 0.0
        figures = {**report.figures, "seconds_at_stage": round(seconds, 1), "min_stage_seconds": min_stage_seconds()}
        report = GuardReport(ok=report.ok, figures=figures, reason=report.reason)
    return report, *gate_verdict(report)
