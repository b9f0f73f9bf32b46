"""The legacy rate limiter: a fixed window counted in the ``legacy`` Django cache (atomic ``add`` then ``incr``)."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import caches

CACHE_ALIAS = "legacy"


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may proceed, how many remain in the window, and when to retry (seconds)."""

    allowed: bool
    remaining: int
    retry_after: int
    limit: int


def _cache_key(scope: str, key: str, window_start: int) -> str:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{window_start}"


def fixed_window_check(
    scope: str, key: str, *, limit: int, window_seconds: int, now: float | None = None
) -> RateDecision:
    """Count one request of ``key`` in ``scope`` and return whether it is within ``limit`` per window."""
    if limit <= 0 or window_seconds <= 0:
        raise ValueError("limit and window_seconds must be positive")
    moment = time.time() if now is None else now
    window_start = int(moment // window_seconds) * window_seconds
    cache = caches[CACHE_ALIAS]
    cache_key = _cache_key(scope, key, window_start)
    # add() is atomic: exactly one request creates the counter; the rest increment it.
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr(): this request opens a new count
            cache.add(cache_key, 1, timeout=window_seconds + 1)
            count = 1
    retry_after = max(1, math.ceil(window_start + window_seconds - moment))
    allowed = count <= limit
    return RateDecision(
        allowed=allowed, remaining=max(0, limit - count), retry_after=0 if allowed else retry_after, limit=limit
    )
