"""The call figures a guard judges, summed over every process in the Redis of the ``new`` cache.

Each process counts into per-second buckets and publishes its completed seconds
(HINCRBY on one hash per second, expiring after the window) about once a
second, from the call that notices a second has passed. A guard then judges
the whole fleet's calls, even when it runs in a worker process that served
none. Without a Redis ``new`` cache (the embedded default: one process), or
while it is down, a guard judges this process's own figures.

The migrating cache (``cachemig.backends``) and the TWS v2 client both count
through :class:`FleetWindow`; :class:`SharedCallFigures` is the ready-made
:class:`~cachemig.flags.guards.RatioGuard` source over one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

from cachemig.flags.guards import CallFigures

log = logging.getLogger("resync.flags")
PREFIX = "cachemig:guard"
FIGURES_ALIAS = "new"


def redis_client(side: BaseCache) -> Any | None:
    """Return the Redis client of cache ``side``, or None when it is not a Redis cache."""
    if not isinstance(side, RedisCache):
        return None
    store: Any = side
    return store._cache.get_client(None, write=True)


def now_second() -> int:
    """Return the current epoch second (the figures' clock)."""
    return int(time.time())


class FleetWindow:
    """Per-second counters of one guarded path over the last ``size`` seconds, and their fleet-wide sums.

    ``fields`` name the counters; ``codes`` are their short names in Redis.
    Callers that count on a hot path may share their own ``lock`` and add to
    :meth:`bucket` under it; the publishing and reading methods take it.
    """

    def __init__(
        self,
        name: str,
        *,
        fields: Sequence[str],
        codes: Sequence[str],
        size: int,
        lock: threading.Lock | None = None,
    ) -> None:
        self.name = name
        self.fields = tuple(fields)
        self.codes = tuple(codes)
        self.size = size
        self.lock = lock or threading.Lock()
        self._seconds = [-1] * size
        self._buckets = [[0] * len(self.fields) for _ in range(size)]
        # Seconds up to here were handed to the shared figures (none counted before this one began).
        self.published_until = now_second() - 1

    def bucket(self, now: int) -> list[int]:
        """Return the counters of second ``now`` (the caller holds ``lock``)."""
        slot = now % self.size
        if self._seconds[slot] != now:
            self._seconds[slot] = now
            self._buckets[slot] = [0] * len(self.fields)
        return self._buckets[slot]

    def due(self, now: int) -> bool:
        """Return whether a completed second waits to be published (the caller holds ``lock``)."""
        return now - 1 > self.published_until

    def clear(self) -> None:
        """Forget every second counted here (the caller holds ``lock``)."""
        self._seconds = [-1] * self.size

    def totals(self, since: float = 0.0) -> dict[str, int]:
        """Return this process's counters of the window, from ``since`` (epoch seconds)."""
        with self.lock:
            now = now_second()
            found = {s: b for s, b in zip(self._seconds, self._buckets, strict=True) if s > now - self.size}
        return self._sum(found, since)

    def publish(self, client: Any | None, *, keep_seconds: int) -> None:
        """Hand the completed seconds not yet published to the shared figures (best effort)."""
        with self.lock:
            now = now_second()
            found = self._between(self.published_until, now)
            self.published_until = now - 1
        if client is None or not found:
            return
        try:
            pipe = client.pipeline(transaction=False)
            for second, values in found.items():
                key = f"{PREFIX}:{self.name}:{second}"
                for code, value in zip(self.codes, values, strict=True):
                    if value:
                        pipe.hincrby(key, code, value)
                pipe.expire(key, keep_seconds)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 — figures are best effort; the counted call must not fail
            log.debug("figures %s: could not publish: %s", self.name, type(exc).__name__)

    def fleet_totals(self, client: Any | None, since: float) -> tuple[dict[str, int], bool]:
        """Return the window's counters from ``since`` and whether they are the whole fleet's."""
        if client is None:
            return self.totals(since), False
        now = now_second()
        first = max(int(since), now - self.size + 1)
        try:
            # Up to now, not to this process's last publish: an idle process (the worker sweeping the
            # guards) must see what the others published since. Its own unpublished seconds are not in Redis.
            pipe = client.pipeline(transaction=False)
            for second in range(first, now + 1):
                pipe.hgetall(f"{PREFIX}:{self.name}:{second}")
            answers = pipe.execute()
        except Exception:  # noqa: BLE001 — unreachable shared figures: judge this process alone
            return self.totals(since), False
        sums = [0] * len(self.fields)
        for found in answers:
            for index, code in enumerate(self.codes):
                sums[index] += int(found.get(code.encode(), 0))
        with self.lock:
            unpublished = self._between(max(self.published_until, int(since) - 1), now_second() + 1)
        local = self._sum(unpublished, since)
        return {field: sums[i] + local[field] for i, field in enumerate(self.fields)}, True

    def _between(self, after: int, before: int) -> dict[int, list[int]]:
        return {
            second: list(bucket)
            for second, bucket in zip(self._seconds, self._buckets, strict=True)
            if after < second < before
        }

    def _sum(self, buckets: dict[int, list[int]], since: float) -> dict[str, int]:
        sums = [0] * len(self.fields)
        for second, bucket in buckets.items():
            if second >= int(since):
                for index, value in enumerate(bucket):
                    sums[index] += value
        return dict(zip(self.fields, sums, strict=True))


class SharedCallFigures:
    """Calls, errors, fallbacks and circuit opens of one new path, shared by every process: a RatioGuard source."""

    FIELDS = ("calls", "errors", "fallbacks", "circuit_opens")

    def __init__(self, name: str, *, window_seconds: int, alias: str = FIGURES_ALIAS) -> None:
        self.alias = alias
        self.window = FleetWindow(name, fields=self.FIELDS, codes=("c", "e", "f", "o"), size=window_seconds)

    def record(self, *, calls: int = 0, errors: int = 0, fallbacks: int = 0, circuit_opens: int = 0) -> bool:
        """Count outcomes of the new path in this second (no I/O); return whether :meth:`publish` is due.

        Call :meth:`publish` when it is (about once a second), off the event loop: it talks to Redis.
        """
        window = self.window
        with window.lock:
            now = now_second()
            bucket = window.bucket(now)
            bucket[0] += calls
            bucket[1] += errors
            bucket[2] += fallbacks
            bucket[3] += circuit_opens
            return window.due(now)

    def publish(self) -> None:
        """Hand this process's completed seconds to the shared figures."""
        self.window.publish(self._client(), keep_seconds=self.window.size + 60)

    def __call__(self, since: datetime | None) -> CallFigures:
        """Return the fleet's figures since ``since`` (the flag's stage start), within the window."""
        totals, _fleet = self.window.fleet_totals(self._client(), since.timestamp() if since else 0.0)
        return CallFigures(**totals)

    def clear(self) -> None:
        """Forget what this process counted and has not published (tests start from nothing)."""
        with self.window.lock:
            self.window.clear()
            self.window.published_until = now_second() - 1

    def _client(self) -> Any | None:
        try:
            return redis_client(caches[self.alias])
        except Exception:  # noqa: BLE001 — no usable alias: this process's figures only
            return None
