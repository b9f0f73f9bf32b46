"""Huey tasks of tws: the periodic plan monitor."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from tws import conf
from tws.services import plan_sync


def _every() -> crontab:
    minutes = max(1, round(conf.monitor_interval_seconds() / 60))
    return crontab(minute=f"*/{minutes}") if minutes < 60 else crontab(minute="0", hour=f"*/{max(1, minutes // 60)}")


@db_periodic_task(_every(), name="tws.plan_sync")
@lock_task("tws-plan-sync")  # one sync at a time across every consumer
def plan_sync_task() -> None:
    """Sync the current plan (failures are recorded as alerts by the service)."""
    plan_sync()
