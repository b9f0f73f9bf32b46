"""The one rate check of every edge: ``rate_check(scope, key, limit=..., window_seconds=...)``.

The counting itself belongs to a floor above (``cachemig.ratelimit.check_rate``, which the flag
``MIGRATION_USE_NEW_RATE_LIMIT`` routes between two implementations); the composition root names it
in the setting ``RESYNC_RATE_LIMITER`` so that this floor imports nothing of ours.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.errors import RateLimited


class Decision(Protocol):
    """What a limiter answers: whether the request may go on and when to retry."""

    allowed: bool
    retry_after: int


@functools.cache
def _limiter(path: str) -> Callable[..., Decision]:
    limiter: Callable[..., Decision] = import_string(path)
    return limiter


def user_key(user: Any) -> str:
    """Return the rate key of an authenticated user."""
    return f"user:{user.pk}"


def rate_check(scope: str, key: str, *, limit: int, window_seconds: int) -> None:
    """Count one ``scope`` request of ``key`` (a user, an address); raise ``RateLimited`` once its budget is spent."""
    limiter = _limiter(settings.RESYNC_RATE_LIMITER)
    decision = limiter(scope, key, limit=limit, window_seconds=window_seconds)
    if not decision.allowed:
        raise RateLimited(
            f"too many {scope} requests; retry in {decision.retry_after} s", retry_after=decision.retry_after
        )
