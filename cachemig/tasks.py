"""Huey tasks of cachemig: the guard sweep that rolls breached flags back."""

from __future__ import annotations

from cachemig import conf, services
from core.periodic import every_seconds


@every_seconds(conf.guard_interval_seconds, name="cachemig.flags_guard_sweep", lock="cachemig-flags-guard-sweep")
def flags_guard_tick() -> int:
    """Evaluate every exposed flag's guard once; return how many were breached."""
    return len(services.guards_sweep())


flags_guard_sweep = flags_guard_tick.tick
