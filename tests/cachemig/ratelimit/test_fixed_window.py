"""The legacy rate limiter: a fixed window counted in the legacy cache."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import caches

from cachemig.ratelimit.fixed_window import fixed_window_check as check_rate


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    caches["legacy"].clear()


def test_requests_beyond_the_limit_are_refused_with_a_retry_delay() -> None:
    decisions = [check_rate("etl.execute", "user:1", limit=3, window_seconds=60, now=1000.0) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after == 20  # the window 960..1020 ends in 20 s


def test_the_next_window_starts_afresh() -> None:
    for _ in range(3):
        check_rate("etl.execute", "user:1", limit=2, window_seconds=10, now=100.0)
    assert check_rate("etl.execute", "user:1", limit=2, window_seconds=10, now=111.0).allowed


def test_keys_and_scopes_are_counted_apart() -> None:
    assert not [check_rate("a", "u1", limit=1, window_seconds=60, now=5.0) for _ in range(2)][-1].allowed
    assert check_rate("a", "u2", limit=1, window_seconds=60, now=5.0).allowed
    assert check_rate("b", "u1", limit=1, window_seconds=60, now=5.0).allowed


def test_concurrent_requests_never_exceed_the_limit() -> None:
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        decision = check_rate("burst", "u", limit=10, window_seconds=60, now=50.0)
        with lock:
            allowed.append(decision.allowed)

    threads = [threading.Thread(target=hit) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 10


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        check_rate("x", "y", limit=0, window_seconds=60)
