"""Huey tasks of tws: the periodic plan monitor."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task, lock_task
from huey.exceptions import TaskLockedException

from tws import conf
from tws.services import plan_sync


def _every() -> crontab:
    minutes = max(1, round(conf.monitor_interval_seconds() / 60))
    return crontab(minute=f"*/{minutes}") if minutes < 60 else crontab(minute="0", hour=f"*/{max(1, minutes // 60)}")


PLAN_SYNC_LOCK = "tws-plan-sync"


@db_task(name="tws.plan_sync_soon")
def plan_sync_soon_task() -> bool:
    """Run one sync of a sub-minute interval (scheduled by ``plan_sync_task``); return whether it ran."""
    try:
        with HUEY.lock_task(PLAN_SYNC_LOCK):
            plan_sync()
    except TaskLockedException:
        return False  # the previous sync is still running: this tick is skipped
    return True


@db_periodic_task(_every(), name="tws.plan_sync")
@lock_task(PLAN_SYNC_LOCK)  # one sync at a time across every consumer
def plan_sync_task() -> None:
    """Sync the current plan (failures are recorded as alerts by the service).

    Huey's periodic tasks fire once a minute: an interval below 60 s spreads the rest of this
    minute's syncs as scheduled tasks.
    """
    interval = conf.monitor_interval_seconds()
    if interval < 60:
        for offset in range(interval, 60, interval):
            plan_sync_soon_task.schedule(delay=offset)
    plan_sync()
