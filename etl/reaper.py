"""The reaper loop every web and worker process runs: a lost worker is noticed even where no worker runs."""

from __future__ import annotations

import asyncio
import logging

from django.db import close_old_connections, connection

from etl import conf
from etl.services import jobs_reap

log = logging.getLogger("resync.etl.reaper")


def _reap_once() -> dict[str, int]:
    close_old_connections()
    try:
        return jobs_reap()
    finally:
        connection.close()  # the pool's thread may serve someone else next


async def reap_forever() -> None:
    """Reap at once (what a crash left behind), then every ``ETL_REAPER_INTERVAL_SECONDS``."""
    while True:
        try:
            await asyncio.to_thread(_reap_once)
        except Exception:  # a database blip must not end the loop: the next pass tries again
            log.exception("etl reaper: a pass failed")
        await asyncio.sleep(float(conf.get_setting("ETL_REAPER_INTERVAL_SECONDS")))


async def start(tg: asyncio.TaskGroup) -> None:
    """Run the reaper loop in ``tg`` (a ``resync_background_services`` hook)."""
    tg.create_task(reap_forever(), name="etl-reaper")
