"""Feature flags: the one function upper floors call, ``is_enabled(name, key=None)``.

Foundation stage: only the environment override ``APP_<NAME>=true|false`` is
read; the database-backed flags with canary percentages replace the body of
``is_enabled`` without changing its signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

FLAGS_OF_RECORD = (
    "TWS_UNIFIED_V2_ENABLED",
    "MIGRATION_USE_NEW_CACHE",
    "MIGRATION_USE_NEW_TWS",
    "MIGRATION_USE_NEW_RATE_LIMIT",
    "MIGRATION_ENABLE_METRICS",
)


Override = Literal["on", "off", "unset"]


def env_override(name: str) -> Override:
    """Return the ``APP_<NAME>`` override: "on", "off", or "unset"."""
    raw = os.environ.get(f"APP_{name}", "").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return "on"
    if raw in {"0", "false", "no", "off"}:
        return "off"
    return "unset"


def is_enabled(name: str, key: str | None = None) -> bool:
    """Return whether flag ``name`` is on for ``key``."""
    del key
    override = env_override(name)
    if override != "unset":
        return override == "on"
    return name == "MIGRATION_ENABLE_METRICS"


@dataclass(frozen=True)
class GuardReport:
    """What a guard measured since the last stage, and whether it is breached."""

    ok: bool
    figures: dict[str, float] = field(default_factory=dict)
    reason: str = ""


Guard = Callable[[], GuardReport]
_guards: dict[str, Guard] = {}


def register_guard(flag: str, guard: Guard) -> None:
    """Register the guard whose figures gate the rollout of ``flag``."""
    _guards[flag] = guard


def guard_for(flag: str) -> Guard | None:
    """Return the guard registered for ``flag``."""
    return _guards.get(flag)
