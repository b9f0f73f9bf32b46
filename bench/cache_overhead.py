#!/usr/bin/env python3
"""Measure what the migrating cache costs over the backend it wraps, in the same run.

For get and set: ops/s and p99 latency of the direct backend (loopback Redis,
and locmem) against ``MigratingCache`` (legacy locmem -> new Redis/locmem)
with MIGRATION_USE_NEW_CACHE at 0, 50 and 100 % and shadow reads at 0 and 10 %.
Targets (issue 8): get <= 1.10x at 100 % without shadow; set with dual write
<= 2.2x; p99 < 1 ms on loopback Redis. The baseline of the Redis rows is the
direct RedisCache; of the locmem rows, the direct LocMemCache.
Run: .venv/bin/python bench/cache_overhead.py [--ops 20000] [--redis redis://127.0.0.1:6379/10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
os.environ.setdefault("RESYNC_VAR_DIR", "/tmp/resync-bench-var")  # noqa: S108 — scratch dir of a bench run


def setup(redis_url: str) -> None:
    import django
    from django.conf import settings

    django.setup()
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    settings.CACHES = {
        **settings.CACHES,
        "bench-legacy": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench-legacy"},
        "bench-new-locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bench-new"},
        "bench-new-dead": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25, "retry": Retry(NoBackoff(), 0)},
        },
        "bench-new-redis": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25, "retry": Retry(NoBackoff(), 0)},
        },
    }


def dead_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_dead_redis(ops: int) -> None:
    """Print what a call costs when the new side is a closed port (breaker open after the first failures)."""
    from cachemig.backends import MigratingCache

    put_percent(100)
    cache = MigratingCache(
        f"bench-dead-{uuid.uuid4().hex[:6]}",
        {"OPTIONS": {"LEGACY_ALIAS": "bench-legacy", "NEW_ALIAS": "bench-new-dead"}},
    )
    started = time.perf_counter()
    first = [cache.get("warm-up") for _ in range(5)]
    opening = (time.perf_counter() - started) / len(first) * 1000
    samples = []
    for n in range(ops):
        begun = time.perf_counter()
        cache.get(f"k{n % 100}")
        samples.append(time.perf_counter() - begun)
    p99 = statistics.quantiles(samples, n=100)[98] * 1000
    print(
        f"dead redis (closed port), flag 100 %: first 5 calls {opening:.3f} ms each (breaker closed), "
        f"then breaker {cache.breaker.state}: {ops / sum(samples):,.0f} get/s, p99 {p99:.3f} ms"
    )


def put_percent(percent: int) -> None:
    """Set the flag stage (the bucketing the flags branch implements: murmur3, Unleash)."""
    import mmh3

    from cachemig import flags

    real = getattr(flags, "_bench_real_is_enabled", flags.is_enabled)
    flags._bench_real_is_enabled = real  # type: ignore[attr-defined]

    def staged(name: str, key: str | None = None) -> bool:
        if name != "MIGRATION_USE_NEW_CACHE":
            return real(name, key=key)
        if percent in (0, 100):
            return percent == 100
        return key is not None and mmh3.hash(f"{name}:{key}", 0, False) % 100 + 1 <= percent

    flags.is_enabled = staged  # type: ignore[assignment]


def measure_pair(direct: Callable[[int], Any], wrapped: Callable[[int], Any], ops: int, rounds: int = 20) -> Any:
    """Return (ops/s, median us, p99 ms) of direct and of wrapped, batches interleaved so load swings hit both."""
    samples: dict[str, list[float]] = {"direct": [], "wrapped": []}
    clock = time.perf_counter
    batch = max(1, ops // rounds)
    for round_ in range(rounds):
        order = [("direct", direct), ("wrapped", wrapped)]
        if round_ % 2:
            order.reverse()
        for name, op in order:
            sink = samples[name]
            for n in range(batch):
                started = clock()
                op(n)
                sink.append(clock() - started)
    return tuple(
        (len(found) / sum(found), statistics.median(found) * 1e6, statistics.quantiles(found, n=100)[98] * 1000)
        for found in samples.values()
    )


def bench_pair(direct: Any, wrapped: Any, ops: int, keys: list[str]) -> dict[str, Any]:
    for key in keys:
        direct.set(key, "x" * 100)
        wrapped.set(key, "x" * 100)
    size = len(keys)
    payload = "y" * 100
    return {
        "get": measure_pair(lambda n: direct.get(keys[n % size]), lambda n: wrapped.get(keys[n % size]), ops),
        "set": measure_pair(
            lambda n: direct.set(keys[n % size], payload), lambda n: wrapped.set(keys[n % size], payload), ops
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--redis", default=os.environ.get("RESYNC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    args = parser.parse_args()
    setup(args.redis)
    from django.core.cache import caches

    from cachemig.backends import MigratingCache

    keys = [f"bench:{n}" for n in range(1000)]
    print(
        f"{'new side':<8} {'flag':>4} {'shadow':>6} | {'op':<4} {'direct ops/s':>12} {'migrating ops/s':>15} "
        f"{'ratio':>6} | {'median us d/m':>15} {'ratio':>6} | {'p99 ms d/m':>20}"
    )
    for new_alias in ("bench-new-redis", "bench-new-locmem"):
        direct = caches[new_alias]
        if new_alias.endswith("redis"):
            try:
                direct.clear()
            except Exception as exc:
                print(f"redis unreachable at {args.redis}: {exc}; skipping the Redis rows")
                continue
        for percent in (0, 50, 100):
            for shadow in (0.0, 0.1):
                put_percent(percent)
                cache = MigratingCache(
                    f"bench-{uuid.uuid4().hex[:6]}",
                    {
                        "OPTIONS": {
                            "LEGACY_ALIAS": "bench-legacy",
                            "NEW_ALIAS": new_alias,
                            "SHADOW_SAMPLE_RATE": shadow,
                        }
                    },
                )
                # Compare with the same side a fully migrated key reads: the new backend.
                figures = bench_pair(direct, cache, args.ops, keys)
                for op in ("get", "set"):
                    (d_rate, d_med, d_p99), (m_rate, m_med, m_p99) = figures[op]
                    side = "redis" if new_alias.endswith("redis") else "locmem"
                    print(
                        f"{side:<8} {percent:>3}% {shadow:>6.0%} | {op:<4} {d_rate:>12,.0f} {m_rate:>15,.0f} "
                        f"{d_rate / m_rate:>6.2f} | {d_med:>7.1f}/{m_med:<7.1f} {m_med / d_med:>6.2f} | "
                        f"{d_p99:>9.3f}/{m_p99:<9.3f}"
                    )
                cache.clear()
    bench_dead_redis(args.ops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
