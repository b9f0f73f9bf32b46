"""The new rate limiter (Redis sliding window) admits no more than the limit per window, under 50 concurrent clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from cachemig.ratelimit.fixed_window import fixed_window_check
from cachemig.ratelimit.sliding_window import RedisRateLimiter, SlidingDecision

pytestmark = pytest.mark.redis


@pytest.fixture
def limiter(cache_redis_url: str) -> RedisRateLimiter:
    return RedisRateLimiter(redis.Redis.from_url(cache_redis_url))


def _limiters(cache_redis_url: str) -> list[tuple[str, Callable[..., Any]]]:
    return [
        ("redis sliding window", RedisRateLimiter(redis.Redis.from_url(cache_redis_url)).check_rate),
        ("legacy fixed window", fixed_window_check),
    ]


def _burst(check_rate: Callable[..., Any], *, clients: int, calls: int, limit: int, window: int) -> list[bool]:
    """Let ``clients`` threads start together and each make ``calls`` checks; return every decision."""
    barrier = threading.Barrier(clients)
    admitted: list[bool] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        for _ in range(calls):
            decision = check_rate("api", "token-1", limit=limit, window_seconds=window)
            with lock:
                admitted.append(decision.allowed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return admitted


def test_both_limiters_admit_no_more_than_the_limit_under_50_concurrent_clients(cache_redis_url: str) -> None:
    limit, window = 20, 3600
    for name, check_rate in _limiters(cache_redis_url):
        started = time.time()
        admitted = _burst(check_rate, clients=50, calls=3, limit=limit, window=window)
        crossed_boundary = int(started // window) != int(time.time() // window)
        assert len(admitted) == 150, name
        assert sum(admitted) <= (2 * limit if crossed_boundary else limit), name
        assert sum(admitted) >= limit, name  # and it does admit up to the limit


def test_decisions_count_down_then_refuse_with_a_retry_after(limiter: RedisRateLimiter) -> None:
    decisions = [limiter.check_rate("api", "u", limit=3, window_seconds=60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[0].retry_after == 0.0
    assert 59 <= decisions[3].retry_after <= 60


def test_keys_and_scopes_are_limited_separately(limiter: RedisRateLimiter) -> None:
    assert limiter.check_rate("api", "a", limit=1, window_seconds=60).allowed
    assert limiter.check_rate("api", "b", limit=1, window_seconds=60).allowed
    assert limiter.check_rate("login", "a", limit=1, window_seconds=60).allowed
    assert not limiter.check_rate("api", "a", limit=1, window_seconds=60).allowed


def test_the_window_slides(limiter: RedisRateLimiter) -> None:
    first = limiter.check_rate("api", "slide", limit=2, window_seconds=0.3)
    limiter.check_rate("api", "slide", limit=2, window_seconds=0.3)
    refused = limiter.check_rate("api", "slide", limit=2, window_seconds=0.3)
    assert first.allowed
    assert not refused.allowed
    time.sleep(refused.retry_after + 0.05)
    assert limiter.check_rate("api", "slide", limit=2, window_seconds=0.3).allowed


def test_a_zero_limit_refuses(limiter: RedisRateLimiter) -> None:
    assert limiter.check_rate("api", "z", limit=0, window_seconds=10) == SlidingDecision(False, 0, 10.0)


def test_without_a_reachable_redis_the_module_answers_none_for_the_fixed_window_to_decide(settings: Any) -> None:
    from cachemig.ratelimit import sliding_window

    settings.CACHES = {
        **settings.CACHES,
        "new": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    sliding_window._default = None  # the settings fixture resets the cache handler; drop the cached limiter
    try:
        assert sliding_window.check_rate("api", "down", limit=5, window_seconds=60) is None
    finally:
        sliding_window._default = None
