"""Benchmark: calls/s through the unified client (retry + breaker + timeout + metrics) vs raw httpx.

Both run in this process against the same simulator (a separate process), on the same
endpoint (GET /twsd/api/v2/plan/job/{id}, uncached), sequentially and with 8 calls in
flight. Overhead ratio = raw calls/s / unified calls/s (target <= 1.15).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _support import tws_simulator  # noqa: E402  (bench/ on the path, for scripts run directly)

CALLS = 3000


async def _rate(call: Callable[[int], Awaitable[object]], *, in_flight: int) -> float:
    gate = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        async with gate:
            await call(i)

    for i in range(50):  # warm up connections
        await call(i)
    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(CALLS)))
    return CALLS / (time.perf_counter() - t0)


async def run(url: str, ids: list[str]) -> None:
    import httpx

    from tws.hwa.client import UnifiedTWSClient
    from tws.hwa.settings import TWSSettings

    settings = TWSSettings(base_url=url, username="bench", password="bench-pass", max_connections=20)
    client = UnifiedTWSClient(settings)
    await client.connect()
    raw = httpx.AsyncClient(base_url=url, auth=("bench", "bench-pass"), limits=httpx.Limits(max_connections=20))

    async def via_raw(i: int) -> object:
        response = await raw.get(f"/twsd/api/v2/plan/job/{ids[i % len(ids)]}", params={"plan_id": "current"})
        response.raise_for_status()
        return response.json()

    async def via_unified(i: int) -> object:
        return await client.get_job(ids[i % len(ids)])

    for in_flight in (1, 8):
        # Interleave the two so machine load affects both alike; best of 3 each.
        raw_rates, unified_rates = [], []
        for _ in range(3):
            raw_rates.append(await _rate(via_raw, in_flight=in_flight))
            unified_rates.append(await _rate(via_unified, in_flight=in_flight))
        r, u = max(raw_rates), max(unified_rates)
        print(
            f"in flight {in_flight}: raw httpx {r:7.0f} calls/s   unified client {u:7.0f} calls/s   "
            f"overhead ratio {r / u:.3f}"
        )
    await raw.aclose()
    await client.disconnect()

    # Rejection cost of an open breaker (no I/O): the issue asks for under 1 ms.
    from tws.exceptions import CircuitOpenError

    breaker = client.resilience.breaker
    for _ in range(breaker.consecutive_limit):
        breaker.record(failed=True)

    async def never_called() -> None:
        raise AssertionError("an open breaker must not call through")

    rejections = 20_000
    t0 = time.perf_counter()
    for _ in range(rejections):
        with contextlib.suppress(CircuitOpenError):
            await breaker.call(never_called)
    per_call = (time.perf_counter() - t0) / rejections
    print(f"open breaker: {per_call * 1e6:.1f} µs per rejected call (target < 1000 µs)")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    os.environ["APP_TWS_UNIFIED_V2_ENABLED"] = "true"
    import django

    django.setup()
    from tws.simulator.plan import SimPlan

    with tws_simulator(jobs=1000) as base_url:
        ids = [j.id for j in SimPlan(jobs=1000, seed=5).jobs]
        asyncio.run(run(base_url, ids))


if __name__ == "__main__":
    main()
