"""``cachemig.ratelimit.check_rate``: the flag chooses the limiter per key; without Redis the fixed window decides."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

from cachemig import ratelimit
from cachemig.ratelimit import sliding_window


@pytest.fixture(autouse=True)
def _fresh_limiters(monkeypatch: pytest.MonkeyPatch) -> None:
    caches["legacy"].clear()
    # Overriding CACHES makes Django rebuild its cache handlers; drop the limiter built over the old ones.
    monkeypatch.setattr(sliding_window, "_default", None)


def _new_cache_at(settings: Any, url: str) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "new": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }


def test_the_flag_routes_keys_to_the_redis_sliding_window(
    monkeypatch: pytest.MonkeyPatch, cache_redis_url: str, settings: Any
) -> None:
    import redis as redis_lib

    _new_cache_at(settings, cache_redis_url)
    client = redis_lib.Redis.from_url(cache_redis_url)

    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "true")
    assert ratelimit.check_rate("etl.cancel", "user:7", limit=2, window_seconds=60).allowed
    assert client.keys("*etl.cancel*user:7*"), "the new limiter keeps its window in Redis"
    assert ratelimit.check_rate("etl.cancel", "user:7", limit=2, window_seconds=60).allowed
    refused = ratelimit.check_rate("etl.cancel", "user:7", limit=2, window_seconds=60)
    assert not refused.allowed
    assert refused.retry_after >= 1
    assert refused.limit == 2

    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "false")
    client.flushdb()
    assert ratelimit.check_rate("etl.cancel", "user:8", limit=1, window_seconds=60).allowed
    assert not client.keys("*user:8*"), "the legacy limiter counts in the legacy cache, not in Redis"
    assert not ratelimit.check_rate("etl.cancel", "user:8", limit=1, window_seconds=60).allowed


def test_with_the_flag_on_and_redis_down_the_fixed_window_still_limits(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    _new_cache_at(settings, "redis://127.0.0.1:1/0")
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "true")
    decisions = [ratelimit.check_rate("api", "down", limit=2, window_seconds=60) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[-1].retry_after >= 1


def test_without_a_redis_new_cache_the_fixed_window_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "true")
    decisions = [ratelimit.check_rate("api", "local", limit=1, window_seconds=60) for _ in range(2)]
    assert [d.allowed for d in decisions] == [True, False]
