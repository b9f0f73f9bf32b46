"""Huey tasks of the composition root: thin wrappers over work that spans apps."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from resync_site.retention import retention_run


@db_periodic_task(crontab(minute="23"))
@lock_task("resync-retention")
def retention_task() -> int:
    """Purge the rows past their retention (hourly, one process at a time); return how many went."""
    return sum(purged.count for purged in retention_run())
