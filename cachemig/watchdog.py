"""Guard sweeps that do not depend on the task queue: the rollback must fire when Redis itself is down.

The guard sweep is a Huey task, and in production Huey's queue lives in the same Redis as the new
cache. When that Redis dies, no consumer can pick the sweep up, so the flag that sends keys to the
dead cache would stay exposed until Redis came back, and by then the outage figures are gone.
Every process that runs the start-up phases (web and worker) therefore watches the queue: while
it cannot reach it, the process sweeps the guards itself, every CACHEMIG_GUARD_INTERVAL_SECONDS.
A duplicate sweep finds the flag already off (the rollback locks the flag's row).
"""

from __future__ import annotations

import asyncio
import logging

from django.db import close_old_connections, connection

from cachemig import conf

log = logging.getLogger("resync.cachemig.watchdog")


def queue_reachable() -> bool:
    """Return whether the Huey queue answers (a cheap length query)."""
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.pending_count()
    except Exception:  # noqa: BLE001 — any failure means the queued sweeps cannot run
        return False
    return True


def sweep_unless_queue_reachable() -> int | None:
    """Sweep the guards here when the queue is unreachable; return the breaches found, or None if not swept."""
    if queue_reachable():
        return None
    from cachemig import services

    try:
        breached = services.guards_sweep()
    finally:
        # Pool threads outlive the call: leave no database connection open on them.
        close_old_connections()
        connection.close()
    if breached:
        log.warning(
            "flags: task queue unreachable; this process swept the guards itself: %s breached",
            ", ".join(name for name, _ in breached),
        )
    return len(breached)


async def start(tg: asyncio.TaskGroup) -> None:
    """Start the watchdog in the process's service group."""
    tg.create_task(_watch(), name="cachemig-guard-watchdog")


async def _watch() -> None:
    while True:
        await asyncio.sleep(conf.guard_interval_seconds())
        try:
            await asyncio.to_thread(sweep_unless_queue_reachable)
        except Exception:  # the next round tries again
            log.exception("flags: guard watchdog sweep failed")
