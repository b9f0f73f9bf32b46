"""Shared call figures: what one process counts, a guard in another process judges (through Redis)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cachemig.flags import CallFigures, RatioGuard, SharedCallFigures
from cachemig.testing import registered_guard

FLAG = "MIGRATION_USE_NEW_RATE_LIMIT"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [2_000_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _redis_new_cache(settings: Any, url: str) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "new": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }


def test_without_redis_a_process_judges_its_own_figures_since_the_stage_began(clock: list[float]) -> None:
    figures = SharedCallFigures("test:local", window_seconds=60)
    figures.record(calls=10, errors=1)
    clock[0] += 5
    figures.record(calls=4, errors=4, circuit_opens=1)
    assert figures(None) == CallFigures(calls=14, errors=5, circuit_opens=1)
    assert figures(_at(clock[0])) == CallFigures(calls=4, errors=4, circuit_opens=1)
    clock[0] += 61
    assert figures(None) == CallFigures(), "figures older than the window are forgotten"


@pytest.mark.redis
def test_a_process_that_counted_nothing_sees_what_another_published(
    clock: list[float], settings: Any, cache_redis_url: str
) -> None:
    _redis_new_cache(settings, cache_redis_url)
    web = SharedCallFigures("test:fleet", window_seconds=60)  # stands for a web process
    worker = SharedCallFigures("test:fleet", window_seconds=60)  # the process that sweeps the guards
    web.record(calls=150, errors=30)
    assert worker(None) == CallFigures(), "nothing is shared before the second completes"
    clock[0] += 1
    assert web.record(calls=1), "a completed second waits to be published"
    web.publish()
    worker.record(calls=2)  # its own, not yet published, count too
    assert worker(None) == CallFigures(calls=152, errors=30)
    with registered_guard(FLAG, RatioGuard(FLAG, source=worker)) as guard:
        report = guard()
    assert not report.ok
    assert "error ratio" in report.reason


def test_with_redis_down_a_process_still_judges_its_own_figures(clock: list[float], settings: Any) -> None:
    _redis_new_cache(settings, "redis://127.0.0.1:1/0")
    figures = SharedCallFigures("test:down", window_seconds=60)
    figures.record(calls=3, errors=3)
    clock[0] += 1
    figures.record(calls=1)
    figures.publish()  # best effort: no exception reaches the counted call
    assert figures(None) == CallFigures(calls=4, errors=3)
