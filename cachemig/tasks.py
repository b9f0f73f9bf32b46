"""Huey tasks of cachemig: the guard sweep that rolls breached flags back."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

from cachemig import conf, services


@db_task()
def flags_guard_sweep() -> int:
    """Evaluate every exposed flag's guard once; return how many were breached."""
    try:
        # Several consumers may enqueue the same tick: one sweep at a time.
        with HUEY.lock_task("cachemig-flags-guard-sweep"):
            return len(services.guards_sweep())
    except TaskLockedException:
        return 0


@db_periodic_task(crontab(minute="*"))
def flags_guard_tick() -> None:
    """Spread this minute's sweeps every CACHEMIG_GUARD_INTERVAL_SECONDS (Huey's periodic tasks fire per minute)."""
    interval = conf.guard_interval_seconds()
    for offset in range(0, 60, interval):
        if offset == 0:
            flags_guard_sweep()
        else:
            flags_guard_sweep.schedule(delay=offset)
