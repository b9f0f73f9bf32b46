"""The guard window's figures of every process, summed in the new side's Redis.

Each process publishes its completed seconds (HINCRBY on one hash per second,
expiring after the window) about once a second, from the cache call that
notices a second has passed. The guard then judges the whole fleet's calls,
even when it runs in a worker process that served no cache traffic. When
Redis is down the figures cannot be shared; the guard then falls back to this
process's own window and its probe, which fails anyway.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

from cachemig.backends.telemetry import _Window

PREFIX = "cachemig:guard"
FIELDS = ("a", "e", "r", "f")  # attempts, errors, routed, fallbacks (the order of _Window.FIELDS)


def redis_client(side: BaseCache) -> Any | None:
    """Return the Redis client of ``side``, or None when it is not a Redis cache."""
    if not isinstance(side, RedisCache):
        return None
    store: Any = side
    return store._cache.get_client(None, write=True)


def publish(client: Any, name: str, buckets: dict[int, list[int]], *, keep_seconds: int) -> None:
    """Add this process's per-second figures to the shared ones."""
    pipe = client.pipeline(transaction=False)
    for second, values in buckets.items():
        key = f"{PREFIX}:{name}:{second}"
        for field, value in zip(FIELDS, values, strict=True):
            if value:
                pipe.hincrby(key, field, value)
        pipe.expire(key, keep_seconds)
    pipe.execute()


def read(client: Any, name: str, *, first: int, last: int) -> dict[str, int]:
    """Return the shared figures of the seconds ``first``..``last``."""
    pipe = client.pipeline(transaction=False)
    for second in range(first, last + 1):
        pipe.hgetall(f"{PREFIX}:{name}:{second}")
    sums = [0, 0, 0, 0]
    for found in pipe.execute():
        for index, field in enumerate(FIELDS):
            sums[index] += int(found.get(field.encode(), 0))
    return dict(zip(_Window.FIELDS, sums, strict=True))


def now_second() -> int:
    """Return the current epoch second (the figures' clock)."""
    return int(time.time())
