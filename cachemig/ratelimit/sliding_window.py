"""The new API rate limiter: a sliding-window log kept atomically in Redis by one Lua script.

Same call and same limits as the legacy fixed window (``check_rate(scope, key,
*, limit, window_seconds)``), but stricter: no window of ``window_seconds``,
wherever it starts, ever admits more than ``limit`` calls (a fixed window
admits up to twice the limit across a boundary; a token bucket up to its
burst plus its refill). The clock is Redis' (``TIME``), so web processes with
skewed clocks agree. ``cachemig.ratelimit`` chooses it per key by the flag
MIGRATION_USE_NEW_RATE_LIMIT and falls back to the fixed window when this one
cannot decide (no Redis ``new`` cache, or Redis down).
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger("resync.cachemig.ratelimit")
REDIS_ALIAS = "new"
KEY_PREFIX = "cachemig:ratelimit"

# KEYS[1] the log; ARGV: limit, window in microseconds, a unique member.
# Returns {allowed 0/1, remaining, retry after in microseconds}.
SLIDING_WINDOW_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now_parts[1] .. now_parts[2] .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = tonumber(oldest[2]) + window - now
if retry < 1 then retry = 1 end
return {0, 0, retry}
"""


@dataclass(frozen=True)
class SlidingDecision:
    """Whether a call is admitted, how many more fit in the window, and when to retry (fractional seconds)."""

    allowed: bool
    remaining: int
    retry_after: float


class RedisRateLimiter:
    """Sliding-window limiter over one Redis client."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._script = client.register_script(SLIDING_WINDOW_LUA)

    def check_rate(self, scope: str, key: str, *, limit: int, window_seconds: float) -> SlidingDecision:
        """Admit or refuse one call of ``key`` in ``scope`` under ``limit`` per ``window_seconds``."""
        if limit <= 0:
            return SlidingDecision(allowed=False, remaining=0, retry_after=float(window_seconds))
        window_us = max(1, int(window_seconds * 1_000_000))
        allowed, remaining, retry_us = self._script(
            keys=[f"{KEY_PREFIX}:{scope}:{key}"], args=[limit, window_us, secrets.token_hex(6)]
        )
        retry_after = math.ceil(int(retry_us) / 1000) / 1000 if not allowed else 0.0
        return SlidingDecision(allowed=bool(allowed), remaining=int(remaining), retry_after=retry_after)


_default: RedisRateLimiter | None = None
_default_lock = threading.Lock()


def default_limiter() -> RedisRateLimiter | None:
    """Return the limiter over the ``new`` cache's Redis, or None when that cache is not Redis."""
    global _default
    if _default is None:
        with _default_lock:
            backend: Any = caches[REDIS_ALIAS]
            if not isinstance(backend, RedisCache):
                return None
            _default = RedisRateLimiter(backend._cache.get_client(None, write=True))
    return _default


def check_rate(scope: str, key: str, *, limit: int, window_seconds: float) -> SlidingDecision | None:
    """Admit or refuse one call; return None when Redis cannot decide (not configured or unreachable)."""
    limiter = default_limiter()
    if limiter is None:
        return None
    try:
        return limiter.check_rate(scope, key, limit=limit, window_seconds=window_seconds)
    except Exception as exc:  # noqa: BLE001 — a Redis failure must not turn into a 500 for the API caller
        log.warning("rate limit: Redis unavailable (%s); using the legacy fixed window", type(exc).__name__)
        return None
