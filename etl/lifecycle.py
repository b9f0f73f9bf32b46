"""Shutdown drain: running jobs of this process are stopped and recorded, never left "running"."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from etl.runner.job import active_runners

log = logging.getLogger("resync.etl.lifecycle")


async def drain() -> None:
    """Stop the jobs still running in this process and wait (up to the grace) until they are recorded."""
    runners = active_runners()
    if not runners:
        return
    log.warning("etl: shutdown interrupts %s running job(s): %s", len(runners), [r.job_id for r in runners])
    for runner in runners:
        runner.request_stop("shutdown")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(settings.RESYNC_SHUTDOWN_GRACE_SECONDS) + 2
    while active_runners() and loop.time() < deadline:  # noqa: ASYNC110 — runners live on other threads
        await asyncio.sleep(0.1)
    left = [r.job_id for r in active_runners()]
    if left:
        log.error("etl: job(s) %s still running at exit; the reaper marks them on the next start", left)
