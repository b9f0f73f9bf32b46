"""Huey tasks of cachemig: the guard sweep that rolls breached flags back."""

from __future__ import annotations

from cachemig import conf, services
from core.periodic import every_seconds


@every_seconds(conf.guard_interval_seconds, lock="cachemig-flags-guard-sweep")
def flags_guard_sweep() -> int:
    """Evaluate every exposed flag's guard once; return how many were breached."""
    return len(services.guards_sweep())
