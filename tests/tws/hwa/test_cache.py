"""TWS answers are cached through the Django cache with TTLs by kind, counted as hits and misses."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tws.conftest import fast_settings
from tws import metrics
from tws.hwa.client import UnifiedTWSClient
from tws.simulator.threaded import ThreadedSimulator


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.cache import cache

    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    cache.clear()


async def test_job_status_is_served_from_the_cache_within_its_ttl(sim: ThreadedSimulator, settings: Any) -> None:
    settings.TWS_CACHE_TTL_STATUS = 60
    client = UnifiedTWSClient(fast_settings(sim.url))
    await client.connect()
    job = sim.server.plan.jobs[7]
    hits = metrics.counter_value(metrics.CACHE, kind="status", outcome="hit")
    misses = metrics.counter_value(metrics.CACHE, kind="status", outcome="miss")
    first = await client.get_job_status(job.id)
    second = await client.get_job_status(job.id)
    assert first == second
    assert len(sim.requests(f"/plan/job/{job.id}")) == 1
    assert metrics.counter_value(metrics.CACHE, kind="status", outcome="miss") == misses + 1
    assert metrics.counter_value(metrics.CACHE, kind="status", outcome="hit") == hits + 1
    await client.disconnect()


async def test_engine_info_and_workstations_are_cached_as_static(sim: ThreadedSimulator) -> None:
    client = UnifiedTWSClient(fast_settings(sim.url))
    await client.connect()
    sim.server.requests.clear()
    for _ in range(3):
        await client.get_engine_info()
        await client.get_workstations()
    assert len(sim.requests("/engine/info")) == 1
    assert len(sim.requests("/plan/workstation")) == 1
    await client.disconnect()


async def test_a_zero_ttl_means_every_call_reaches_tws(sim: ThreadedSimulator, settings: Any) -> None:
    settings.TWS_CACHE_TTL_STATUS = 0
    client = UnifiedTWSClient(fast_settings(sim.url))
    await client.connect()
    job = sim.server.plan.jobs[8]
    await client.get_job_status(job.id)
    await client.get_job_status(job.id)
    assert len(sim.requests(f"/plan/job/{job.id}")) == 2
    await client.disconnect()
