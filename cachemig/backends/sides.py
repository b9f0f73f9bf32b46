"""The two sides of a migrating cache: configured aliases rebuilt to take finished keys.

The migrating cache makes and validates every key itself (its KEY_PREFIX,
VERSION and KEY_FUNCTION, one warning per bad key, exactly as a built-in
backend), so each side is a subclass of its configured backend whose
``make_key`` returns the key unchanged. The sides keep their own storage
options (LOCATION, OPTIONS, MAX_ENTRIES...): a locmem side with the same
LOCATION shares its store with ``caches[alias]``.
"""

from __future__ import annotations

import time
from typing import Any, cast

from django.conf import settings
from django.core.cache.backends.base import BaseCache, InvalidCacheBackendError
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string

# Sentinels of side calls: "no such key" (a stored None is a value) and "the side failed".
MISSING: Any = object()
FAILED: Any = object()


class _FinishedKeys:
    """Mixin: take keys already made and validated by the migrating cache."""

    def make_key(self, key: Any, version: int | None = None) -> Any:
        """Return ``key`` unchanged: the migrating cache made it."""
        del version
        return key

    def validate_key(self, key: Any) -> None:
        """Do nothing: the migrating cache validated the key (one warning, not three)."""

    def make_and_validate_key(self, key: Any, version: int | None = None) -> Any:
        """Return ``key`` unchanged (one call on the hot path instead of three)."""
        del version
        return key


_finished_classes: dict[type, type] = {}


def _finished_key_class(backend: type) -> type:
    found = _finished_classes.get(backend)
    if found is None:
        found = _finished_classes[backend] = type(f"FinishedKey{backend.__name__}", (_FinishedKeys, backend), {})
    return found


def build_side(alias: str) -> BaseCache:
    """Return a fresh instance of the backend configured as ``CACHES[alias]`` that takes finished keys."""
    try:
        params: dict[str, Any] = dict(settings.CACHES[alias])
    except KeyError as exc:
        raise InvalidCacheBackendError(f"MigratingCache: no cache alias {alias!r} in CACHES") from exc
    backend_path = params.pop("BACKEND")
    location = params.pop("LOCATION", "")
    backend = import_string(backend_path)
    if not (isinstance(backend, type) and issubclass(backend, BaseCache)):
        raise InvalidCacheBackendError(f"MigratingCache: CACHES[{alias!r}] BACKEND is not a cache backend")
    finished: Any = _finished_key_class(backend)
    return cast(BaseCache, finished(location, params))


def remaining_timeout(side: BaseCache, key: str, fallback: int | None) -> int | None:
    """Return the seconds ``key`` has left on ``side`` (None: forever), or ``fallback`` when it cannot tell."""
    store: Any = side  # locmem and redis expose no TTL API: read their internals
    if isinstance(side, LocMemCache):
        if key not in store._expire_info:
            return fallback
        expiry = store._expire_info[key]
        return None if expiry is None else max(1, int(expiry - time.time()))
    if isinstance(side, RedisCache):
        ttl = store._cache.get_client(key).ttl(key)
        if ttl == -1:
            return None
        return fallback if ttl < 0 else int(ttl)
    return fallback


def list_keys(side: BaseCache, *, limit: int, match: str | None = None) -> tuple[list[str] | None, str]:
    """Return up to ``limit`` live keys stored on ``side`` (None with the reason when it cannot list them)."""
    store: Any = side  # no key listing API either
    if isinstance(side, LocMemCache):
        with store._lock:
            now = time.time()
            found = [key for key in list(store._cache) if (exp := store._expire_info.get(key)) is None or exp > now]
        if match is not None:
            found = [key for key in found if key.startswith(match)]
        return found[:limit], "locmem of this process"
    if isinstance(side, RedisCache):
        client = store._cache.get_client(None)
        keys: list[str] = []
        pattern = f"{match}*" if match is not None else None
        for raw in client.scan_iter(match=pattern, count=1000):
            keys.append(raw.decode() if isinstance(raw, bytes) else str(raw))
            if len(keys) >= limit:
                break
        return keys, "redis SCAN"
    return None, f"{type(side).__name__} cannot list its keys"


def count_keys(side: BaseCache) -> tuple[int | None, str]:
    """Return the number of keys on ``side``, or None with the reason it cannot tell."""
    store: Any = side
    if isinstance(side, LocMemCache):
        return len(store._cache), "locmem entries of this process (expired ones count until culled)"
    if isinstance(side, RedisCache):
        return int(store._cache.get_client(None).dbsize()), "redis DBSIZE (every key of the database)"
    return None, f"{type(side).__name__} cannot count its keys"


def disconnect(side: BaseCache) -> None:
    """Release the connections ``side`` holds (Django's ``close()`` keeps Redis pools open)."""
    side.close()
    store: Any = side
    if isinstance(side, RedisCache) and "_cache" in side.__dict__:
        for pool in store._cache._pools.values():
            pool.disconnect()


def describe(side: BaseCache) -> str:
    """Return the backend class an operator configured for ``side``."""
    bases = [base for base in type(side).__mro__ if base not in (_FinishedKeys,) and base.__module__ != __name__]
    return f"{bases[0].__module__}.{bases[0].__name__}"
