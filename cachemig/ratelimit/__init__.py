"""Per-key rate limiting: ``check_rate(scope, key, limit=..., window_seconds=...) -> RateDecision``.

Two implementations enforce the same limits, chosen per key by the flag
``MIGRATION_USE_NEW_RATE_LIMIT``: the legacy fixed window counted in the
``legacy`` Django cache (``fixed_window``), and the new sliding window kept
atomically in Redis (``sliding_window``). When the new one cannot decide (no
Redis, or Redis down) the fixed window does. Neither imports the other: this
module chooses.
"""

from __future__ import annotations

import math

from cachemig import flags
from cachemig.ratelimit import sliding_window
from cachemig.ratelimit.fixed_window import CACHE_ALIAS, RateDecision, fixed_window_check

FLAG = "MIGRATION_USE_NEW_RATE_LIMIT"

__all__ = ["CACHE_ALIAS", "RateDecision", "check_rate", "check_rate_shared", "fixed_window_check"]


def _sliding_or_fixed(scope: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
    decision = sliding_window.check_rate(scope, key, limit=limit, window_seconds=window_seconds)
    if decision is None:  # Redis cannot decide: this process's fixed window still limits
        return fixed_window_check(scope, key, limit=limit, window_seconds=window_seconds)
    return RateDecision(
        allowed=decision.allowed, remaining=decision.remaining, retry_after=math.ceil(decision.retry_after), limit=limit
    )


def check_rate(scope: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
    """Count one request of ``key`` in ``scope`` with the implementation the flag chooses for ``key``."""
    if flags.is_enabled(FLAG, key=key):
        return _sliding_or_fixed(scope, key, limit=limit, window_seconds=window_seconds)
    return fixed_window_check(scope, key, limit=limit, window_seconds=window_seconds)


def check_rate_shared(scope: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
    """Count one request in the sliding window every process shares (Redis), whatever the flag says.

    Production's limiter (docs/decisions/rate-budget-shared-in-production.md): one budget per user across
    every web process and the admin; the fixed window of this process decides only while Redis cannot.
    """
    return _sliding_or_fixed(scope, key, limit=limit, window_seconds=window_seconds)
