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

__all__ = ["CACHE_ALIAS", "RateDecision", "check_rate", "fixed_window_check"]


def check_rate(scope: str, key: str, *, limit: int, window_seconds: int) -> RateDecision:
    """Count one request of ``key`` in ``scope`` with the implementation the flag chooses for ``key``."""
    if flags.is_enabled(FLAG, key=key):
        decision = sliding_window.check_rate(scope, key, limit=limit, window_seconds=window_seconds)
        if decision is not None:
            return RateDecision(
                allowed=decision.allowed,
                remaining=decision.remaining,
                retry_after=math.ceil(decision.retry_after),
                limit=limit,
            )
    return fixed_window_check(scope, key, limit=limit, window_seconds=window_seconds)
