"""Huey tasks of tws: the periodic plan monitor."""

from __future__ import annotations

from core.periodic import every_seconds
from tws import conf
from tws.services import plan_sync

PLAN_SYNC_LOCK = "tws-plan-sync"


@every_seconds(conf.monitor_interval_seconds, lock=PLAN_SYNC_LOCK)
def plan_sync_task() -> None:
    """Sync the current plan, one sync at a time across every consumer (failures become alerts)."""
    plan_sync()
