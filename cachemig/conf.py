"""Settings of cachemig, read in one place with their defaults (CACHEMIG_*)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # How old a process's view of the flags may get before it re-reads them (seconds, 0.1-2).
    "CACHEMIG_FLAGS_REFRESH_SECONDS": 1.0,
    # How often the guards are evaluated for automatic rollback (seconds; must divide 60).
    "CACHEMIG_GUARD_INTERVAL_SECONDS": 10,
    # Roll a breached flag back automatically (off: only log and count the breach).
    "CACHEMIG_AUTO_ROLLBACK": True,
    # A rollout gate passes only after the flag spent this long at its current stage (seconds).
    "CACHEMIG_MIN_STAGE_SECONDS": 300,
}


def _testing() -> bool:
    # pytest (>= 8.2) exports PYTEST_VERSION for the whole session; RESYNC_ENV=test is the explicit switch.
    return settings.RESYNC_ENV == "test" or "PYTEST_VERSION" in os.environ


def get_setting(name: str) -> Any:
    """Return the value of ``CACHEMIG_<name>`` or its default."""
    if name == "CACHEMIG_STRICT_FLAGS":
        return getattr(settings, name, _testing())
    return getattr(settings, name, DEFAULTS[name])


def refresh_seconds() -> float:
    """Return the per-process flag cache lifetime, clamped to the supported range."""
    return min(max(float(get_setting("CACHEMIG_FLAGS_REFRESH_SECONDS")), 0.0), 2.0)


def strict_flags() -> bool:
    """Return whether an unknown flag name raises (tests) rather than logging an error (production)."""
    return bool(get_setting("CACHEMIG_STRICT_FLAGS"))


def live_env_overrides() -> bool:
    """Return whether ``APP_<FLAG>`` is re-read on every evaluation (tests) instead of per refresh."""
    return _testing()


def guard_interval_seconds() -> int:
    """Return the interval of the guard sweep."""
    return int(get_setting("CACHEMIG_GUARD_INTERVAL_SECONDS"))


def auto_rollback_enabled() -> bool:
    """Return whether a breached guard rolls its flag back."""
    return bool(get_setting("CACHEMIG_AUTO_ROLLBACK"))


def min_stage_seconds() -> float:
    """Return how long a flag must stay at a stage before its gate may pass."""
    return float(get_setting("CACHEMIG_MIN_STAGE_SECONDS"))
