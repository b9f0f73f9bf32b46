"""The guard each owning app registers per flag."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("resync.flags")


@dataclass(frozen=True)
class GuardReport:
    """What a guard measured since the last stage, and whether it is breached.

    ``ok`` is False when the new path is unhealthy (auto rollback fires on it).
    A rollout gate also wants evidence: a ``calls`` figure of at least ``min_calls``
    (and at least one), and CACHEMIG_MIN_STAGE_SECONDS spent at the current stage.
    """

    ok: bool
    figures: dict[str, float] = field(default_factory=dict)
    reason: str = ""


Guard = Callable[[], GuardReport]
_guards: dict[str, Guard] = {}


def register_guard(flag: str, guard: Guard) -> None:
    """Register the guard whose figures gate the rollout of ``flag``."""
    _guards[flag] = guard


def unregister_guard(flag: str) -> None:
    """Forget the guard of ``flag`` (tests restore the registry with it)."""
    _guards.pop(flag, None)


def guard_for(flag: str) -> Guard | None:
    """Return the guard registered for ``flag``."""
    return _guards.get(flag)


def evaluate_guard(flag: str) -> GuardReport | None:
    """Run the guard of ``flag``; a guard that raises reports a breach, never propagates."""
    guard = _guards.get(flag)
    if guard is None:
        return None
    try:
        report = guard()
    except Exception as exc:
        log.exception("guard of flag %s raised", flag)
        return GuardReport(ok=False, figures={}, reason=f"guard failed: {type(exc).__name__}: {exc}"[:300])
    return report
