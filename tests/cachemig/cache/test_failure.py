"""A dead new cache: answers keep coming from legacy, fallbacks are counted, the guard breaches, recovery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cachemig.backends import guard as cache_guard
from tests.cachemig.cache.conftest import RedisProcess, free_port

KEYS = [f"k{n}" for n in range(50)]


def _wait(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Poll ``condition`` until true (the drill's progress, never a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the drill did not reach its next phase")
        time.sleep(0.02)


def test_a_closed_port_falls_back_to_legacy_and_opens_the_breaker(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(f"redis://127.0.0.1:{free_port()}/0")
    flag_percent(100)
    for key in KEYS:
        cache.set(key, key)
    assert all(cache.get(key) == key for key in KEYS)
    assert cache.get_many(KEYS[:3]) == {key: key for key in KEYS[:3]}
    assert cache.add("new-key", 1) is True
    assert cache.incr("new-key") == 2
    assert cache.has_key("new-key")
    assert cache.touch("new-key", None) is True
    assert cache.delete("new-key") is True
    cache.clear()
    stats = cache.get_stats()
    assert stats["circuit"]["state"] == "open"
    assert stats["fallbacks_total"] > len(KEYS)
    assert stats["errors"]["new.set"] == 5  # then the breaker stops calling the dead side
    report = cache_guard.evaluate(cache)
    assert not report.ok
    assert "circuit is open" in report.reason


async def test_async_calls_fall_back_too(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(f"redis://127.0.0.1:{free_port()}/0")
    flag_percent(100)
    await cache.aset("k", 1)
    assert await cache.aget("k") == 1
    assert await cache.aget_many(["k"]) == {"k": 1}


@pytest.mark.redis
@pytest.mark.slow
def test_killing_redis_under_load_then_restarting_it(
    build_cache: Any, flag_percent: Any, redis_process: RedisProcess
) -> None:
    cache = build_cache(redis_process.url, options={"BREAKER_RESET_SECONDS": 0.2, "GUARD_MIN_SAMPLES": 5})
    flag_percent(100)
    errors: list[BaseException] = []
    stop = threading.Event()
    written: dict[str, int] = {}
    lock = threading.Lock()

    def client(worker: int) -> None:
        round_ = 0
        while not stop.is_set():
            round_ += 1
            key = f"w{worker}-{round_ % 20}"
            try:
                cache.set(key, round_)
                got = cache.get(key)
                # During the outage a miss is allowed (a cache may always miss); a wrong value never is.
                if got is not None and got != round_:
                    made = cache.make_key(key)
                    errors.append(
                        AssertionError(
                            f"{key}: wrote {round_}, read {got}; legacy {cache.legacy.get(made)} new "
                            f"{cache.call_new('x', cache.new.get, made, routed=False)} {cache.get_stats()['circuit']}"
                        )
                    )
                with lock:
                    written[key] = round_
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    try:
        _wait(lambda: cache.get_stats()["hits"]["new"] > 100)
        redis_process.kill()
        _wait(lambda: cache.get_stats()["fallbacks_total"] > 100)
        report = cache_guard.evaluate(cache)
        assert not report.ok
        assert report.figures["fallbacks"] > 0, (report, cache.get_stats())
        redis_process.start()
        hits_before = cache.get_stats()["hits"]["new"]
        _wait(lambda: cache.get_stats()["hits"]["new"] > hits_before + 100)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert errors == []
    stats = cache.get_stats()
    assert stats["circuit"]["state"] == "closed"
    # Keys written while Redis was down were repaired from legacy: the new side serves the latest values.
    assert all(cache.get(key) == value for key, value in written.items())
    assert cache_guard.evaluate(cache).ok


@pytest.mark.redis
def test_keys_written_during_an_outage_are_not_served_stale_after_recovery(
    build_cache: Any, flag_percent: Any, cache_redis_url: str
) -> None:
    cache = build_cache(cache_redis_url, options={"BREAKER_RESET_SECONDS": 0.05})
    flag_percent(100)
    cache.set("k", "before")
    cache.set("gone", "before")
    real_new = cache.new
    cache.new = build_cache(f"redis://127.0.0.1:{free_port()}/0").new  # the new side goes dark
    cache.set("k", "during")
    cache.delete("gone")
    assert cache.get("k") == "during"
    assert cache.get_stats()["keys_to_repair"] == 2
    cache.new = real_new  # and comes back with its old values
    time.sleep(0.06)
    assert cache.get("k") == "during"
    assert cache.get("gone") is None
    assert real_new.get(cache.make_key("k")) == "during"
    assert cache.get_stats()["keys_to_repair"] == 0


def test_too_many_missed_keys_clear_the_new_side_on_recovery(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(options={"DIRTY_KEYS_MAX": 3, "BREAKER_RESET_SECONDS": 0.05})
    flag_percent(100)
    cache.set("k", "before")
    real_new = cache.new
    cache.new = build_cache(f"redis://127.0.0.1:{free_port()}/0").new
    for n in range(5):
        cache.set(f"x{n}", n)
    cache.set("k", "during")
    assert cache.get_stats()["keys_to_repair"] == -1
    cache.new = real_new
    time.sleep(0.06)
    # The new side was cleared rather than trusted: a cold miss, never the stale "before".
    assert cache.get("k") is None
    assert cache.get_stats()["keys_to_repair"] == 0
    cache.set("k", "after")
    assert cache.get("k") == "after"


@pytest.mark.redis
def test_the_guard_judges_the_calls_of_every_process_through_redis(
    build_cache: Any, flag_percent: Any, cache_redis_url: str
) -> None:
    from cachemig.backends.telemetry import WINDOW_CODES, WINDOW_FIELDS
    from cachemig.flags.figures import FleetWindow, redis_client

    cache = build_cache(cache_redis_url, options={"GUARD_MIN_SAMPLES": 10})
    flag_percent(100)
    cache.set("k", 1)
    assert cache.get("k") == 1
    report = cache_guard.evaluate(cache)
    assert report.ok, report.reason
    assert report.figures["fleet_figures"] == 1.0
    # Another web process saw its calls to the new side fail and published its figures.
    other = FleetWindow(cache.name, fields=WINDOW_FIELDS, codes=WINDOW_CODES, size=60)
    other.published_until -= 3
    with other.lock:
        other.bucket(other.published_until + 1)[:] = [40, 30, 40, 30]
    other.publish(redis_client(cache.new), keep_seconds=60)
    report = cache_guard.evaluate(cache)
    assert not report.ok
    assert "error ratio" in report.reason
    assert report.figures["calls"] >= 40


@pytest.mark.redis
def test_each_process_publishes_its_completed_seconds(
    build_cache: Any, flag_percent: Any, cache_redis_url: str, monkeypatch: Any
) -> None:
    from cachemig.backends.telemetry import WINDOW_CODES, WINDOW_FIELDS
    from cachemig.flags.figures import FleetWindow, redis_client

    cache = build_cache(cache_redis_url)
    flag_percent(100)
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    cache.telemetry.window.published_until = 999_999
    for _ in range(5):
        cache.get("k")
    clock[0] += 2  # the next call notices completed seconds and publishes them
    cache.get("k")
    # What another process reads: its own window is empty, so every figure comes from Redis.
    reader = FleetWindow(cache.name, fields=WINDOW_FIELDS, codes=WINDOW_CODES, size=60)
    shared, fleet = reader.fleet_totals(redis_client(cache.new), since=1_000_000)
    assert fleet
    assert shared["routed"] == 5
