"""TWS answers cached through the Django cache, with TTLs by kind and hit/miss metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from django.core.cache import cache
from pydantic import TypeAdapter

from tws import conf, metrics

M = TypeVar("M")
Kind = Literal["status", "static"]
PREFIX = "tws:v1:"


async def cached(kind: Kind, key: str, load: Callable[[], Awaitable[M]], model: type[M] | object) -> M:
    """Return the cached answer for ``key`` or ``load()`` it and keep it for the kind's TTL."""
    adapter: TypeAdapter[M] = TypeAdapter(model)  # type: ignore[arg-type]
    full_key = PREFIX + kind + ":" + key
    raw = await cache.aget(full_key)
    if raw is not None:
        metrics.CACHE.labels(kind=kind, outcome="hit").inc()
        return adapter.validate_python(raw)
    metrics.CACHE.labels(kind=kind, outcome="miss").inc()
    value = await load()
    await cache.aset(full_key, adapter.dump_python(value, mode="json"), conf.cache_ttl(kind))
    return value
