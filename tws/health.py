"""The ``tws`` health component: degraded, never down, when the scheduler is unreachable."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync

from tws.hwa.contract import SystemStatus
from tws.models import SyncRun

PROBE_SECONDS = 2.0


async def _probe() -> SystemStatus:
    """Return HWA's status through this loop's client: the flag picks the API, the breaker may refuse."""
    from tws.hwa.client import get_tws_client

    return await asyncio.wait_for((await get_tws_client()).get_system_status(), timeout=PROBE_SECONDS)


def check() -> dict[str, Any]:
    """Probe HWA through the unified client (at most 2 s) and report the last sync."""
    last = SyncRun.objects.order_by("-finished_at").values("outcome", "finished_at").first()
    sync = {"last_sync": last["finished_at"].isoformat(), "last_outcome": last["outcome"]} if last else {}
    # Called from a worker thread of the health view: async_to_sync runs the probe on the server's
    # own loop, so it shares the client (and its breaker) that every other call goes through.
    try:
        status = async_to_sync(_probe)()
    except TimeoutError:
        return {"status": "degraded", "detail": "TWS unreachable (tws_timeout)", **sync}
    if not status.reachable:
        return {"status": "degraded", "detail": f"TWS unreachable ({status.detail})", "api": status.api_version, **sync}
    degraded = last is not None and last["outcome"] == "failed"
    detail = f"engine {status.engine_version or '?'} via {status.api_version}"
    return {"status": "degraded" if degraded else "ok", "detail": detail, "api": status.api_version, **sync}
