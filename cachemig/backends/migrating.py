"""``MigratingCache``: a Django cache backend moving keys from a legacy cache to a new one.

Each key is routed by the flag MIGRATION_USE_NEW_CACHE (bucketed per made
key). The routed side answers; while DUAL_WRITE is on every write also goes to
the other side, so rolling back never serves stale data. Failures of the new
side fall back to the legacy one and are counted; a breaker stops calling a
dead new side. Keys whose write missed the new side are repaired from the
legacy side before the new side answers for them again.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import random
from collections.abc import Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT

from cachemig.backends import guard
from cachemig.backends.base import MigratingBase
from cachemig.backends.sides import FAILED, MISSING
from cachemig.backends.telemetry import MismatchKind, Side

log = logging.getLogger("resync.cachemig.cache")


class MigratingCache(MigratingBase):
    """Serve each key from the legacy or the new cache as the rollout flag says, writing to both."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(location, params)
        guard.ensure_registered(self.options.flag)

    # --- reads ----------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        """Return the value of ``key`` from its routed side, or ``default``."""
        made = self.make_and_validate_key(key, version=version)
        side: Side = "new" if self.routes_to_new(made) else "legacy"
        value = self._read_new(made) if side == "new" else self._read_legacy(made)
        rate = self.options.shadow_sample_rate
        if rate and random.random() < rate:
            self._shadow(made, side, value)
        return default if value is MISSING else value

    def _read_legacy(self, made: str) -> Any:
        value = self.call_legacy("get", self.legacy.get, made, MISSING)
        self.telemetry.read("legacy", value is not MISSING)
        return value

    def _read_new(self, made: str) -> Any:
        if not self.new_is_clean(made):
            return self._read_legacy(made)
        value = self.call_new("get", self.new.get, made, MISSING, routed=True, read=True)
        if value is FAILED:
            return self._read_legacy(made)
        if value is MISSING and self.options.warm_on_miss:
            return self.warm(made)
        return value

    def _shadow(self, made: str, side: Side, value: Any) -> None:
        # Scientist-style: read the other side too, compare, count; the answer stays the routed side's.
        if side == "new":
            other = self.legacy.get(made, MISSING)
            new_value, legacy_value = value, other
        else:
            other = self.call_new("shadow_get", self.new.get, made, MISSING, routed=False)
            if other is FAILED:
                return
            new_value, legacy_value = other, value
        self.telemetry.shadow(made, mismatch_kind(new_value, legacy_value))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        """Return a dict of the keys found, each read from its routed side."""
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        to_new = [k for k in made if self.routes_to_new(k) and self.new_is_clean(k)]
        on_new = set(to_new)
        to_legacy = [k for k in made if k not in on_new]
        found: dict[str, Any] = {}
        if to_new:
            got = self.call_new("get_many", self.new.get_many, to_new, routed=True)
            if got is FAILED:
                to_legacy.extend(to_new)
                on_new = set()
            else:
                self._count_reads("new", len(got), len(to_new))
                found.update(got)
                if self.options.warm_on_miss:
                    for k in to_new:
                        if k not in got and (value := self.warm(k)) is not MISSING:
                            found[k] = value
        if to_legacy:
            got = self.call_legacy("get_many", self.legacy.get_many, to_legacy)
            self._count_reads("legacy", len(got), len(to_legacy))
            found.update(got)
        rate = self.options.shadow_sample_rate
        if rate:
            for k in made:
                if random.random() < rate:
                    self._shadow(k, "new" if k in on_new else "legacy", found.get(k, MISSING))
        return {made[k]: found[k] for k in made if k in found}

    def _count_reads(self, side: Side, hits: int, asked: int) -> None:
        for _ in range(hits):
            self.telemetry.read(side, True)
        for _ in range(asked - hits):
            self.telemetry.read(side, False)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        """Return whether ``key`` is on its routed side and not expired."""
        made = self.make_and_validate_key(key, version=version)
        if self.routes_to_new(made) and self.new_is_clean(made):
            present = self.call_new("has_key", self.new.has_key, made, routed=True)
            if present is not FAILED:
                self.telemetry.read("new", bool(present))
                if not present and self.options.warm_on_miss:
                    return self.warm(made) is not MISSING
                return bool(present)
        present = self.call_legacy("has_key", self.legacy.has_key, made)
        self.telemetry.read("legacy", bool(present))
        return bool(present)

    # --- writes ---------------------------------------------------------------

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        """Store ``value`` under ``key`` on the routed side (and the other while dual-writing)."""
        made = self.make_and_validate_key(key, version=version)
        ttl = self.resolve_timeout(timeout)
        to_new = self.routes_to_new(made)
        if self.options.dual_write:
            self.call_legacy("set", self.legacy.set, made, value, ttl)
            self.write_new("set", [made], self.new.set, made, value, ttl, routed=to_new)
        elif to_new:
            if self.write_new("set", [made], self.new.set, made, value, ttl, routed=True):
                self.legacy.delete(made)
            else:
                self.call_legacy("set", self.legacy.set, made, value, ttl)
        else:
            self.call_legacy("set", self.legacy.set, made, value, ttl)
            self.write_new("delete", [made], self.new.delete, made, routed=False)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Store ``value`` only if ``key`` is absent from its routed side; return whether it was stored."""
        made = self.make_and_validate_key(key, version=version)
        ttl = self.resolve_timeout(timeout)
        if self.routes_to_new(made) and self.new_is_clean(made):
            if self.options.warm_on_miss:
                self.warm(made)
            stored = self.call_new("add", self.new.add, made, value, ttl, routed=True)
            if stored is not FAILED:
                if stored:
                    self._mirror_legacy(made, value, ttl)
                return bool(stored)
            self.dirty.mark([made])
            return bool(self.call_legacy("add", self.legacy.add, made, value, ttl))
        stored = self.call_legacy("add", self.legacy.add, made, value, ttl)
        if stored:
            if self.options.dual_write:
                self.write_new("set", [made], self.new.set, made, value, ttl, routed=False)
            else:
                self.write_new("delete", [made], self.new.delete, made, routed=False)
        return bool(stored)

    def _mirror_legacy(self, made: str, value: Any, ttl: Any) -> None:
        if self.options.dual_write:
            self.legacy.set(made, value, ttl)
        else:
            self.legacy.delete(made)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        """Give ``key`` a new expiry; return whether it exists on its routed side."""
        made = self.make_and_validate_key(key, version=version)
        ttl = self.resolve_timeout(timeout)
        if self.routes_to_new(made) and self.new_is_clean(made):
            touched = self.call_new("touch", self.new.touch, made, ttl, routed=True)
            if touched is not FAILED:
                if not touched and self.options.warm_on_miss and self.warm(made) is not MISSING:
                    touched = self.call_new("touch", self.new.touch, made, ttl, routed=True) is True
                self.legacy.touch(made, ttl)
                return bool(touched)
            self.dirty.mark([made])
            return bool(self.call_legacy("touch", self.legacy.touch, made, ttl))
        touched = self.call_legacy("touch", self.legacy.touch, made, ttl)
        if self.options.dual_write:
            self.write_new("touch", [made], self.new.touch, made, ttl, routed=False)
        return bool(touched)

    def delete(self, key: Any, version: int | None = None) -> bool:
        """Delete ``key`` from both sides; return whether its routed side held it."""
        made = self.make_and_validate_key(key, version=version)
        to_new = self.routes_to_new(made)
        deleted_legacy = bool(self.call_legacy("delete", self.legacy.delete, made))
        deleted_new = self.call_new("delete", self.new.delete, made, routed=to_new)
        if deleted_new is FAILED:
            self.dirty.mark([made])
            return deleted_legacy
        self.dirty.discard([made])
        if to_new:
            return bool(deleted_new) or (self.options.warm_on_miss and deleted_legacy)
        return deleted_legacy

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        """Add ``delta`` to the value of ``key`` on its routed side; raise ValueError if it is absent."""
        made = self.make_and_validate_key(key, version=version)
        if self.routes_to_new(made) and self.new_is_clean(made):
            result = self._incr_new(made, delta)
            if result is not FAILED:
                self._mirror_incr_legacy(made, delta, result)
                return result
            self.dirty.mark([made])
            return self.call_legacy("incr", self.legacy.incr, made, delta)
        result = self.call_legacy("incr", self.legacy.incr, made, delta)
        if not self.options.dual_write:
            self.write_new("delete", [made], self.new.delete, made, routed=False)
            return result
        try:
            mirrored = self.call_new("incr", self.new.incr, made, delta, routed=False, semantic=(ValueError,))
        except ValueError:
            return result  # the new side never had it: nothing stale there
        if mirrored is FAILED:
            self.dirty.mark([made])
        elif mirrored != result:
            self.write_new("delete", [made], self.new.delete, made, routed=False)
        return result

    def _incr_new(self, made: str, delta: int) -> Any:
        try:
            return self.call_new("incr", self.new.incr, made, delta, routed=True, semantic=(ValueError,))
        except ValueError:
            if not (self.options.warm_on_miss and self.warm(made) is not MISSING):
                raise
        return self.call_new("incr", self.new.incr, made, delta, routed=True, semantic=(ValueError,))

    def _mirror_incr_legacy(self, made: str, delta: int, result: Any) -> None:
        if not self.options.dual_write:
            self.legacy.delete(made)
            return
        try:
            mirrored = self.legacy.incr(made, delta)
        except ValueError:
            return
        if mirrored != result:
            self.legacy.delete(made)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        """Store every pair on its routed side (and both while dual-writing); return the keys that failed."""
        if not data:
            return []
        made = {self.make_and_validate_key(key, version=version): key for key in data}
        values = {k: data[user_key] for k, user_key in made.items()}
        ttl = self.resolve_timeout(timeout)
        new_keys = [k for k in made if self.routes_to_new(k)]
        if self.options.dual_write:
            failed = self.call_legacy("set_many", self.legacy.set_many, values, ttl) or []
            self.write_new("set_many", list(made), self.new.set_many, values, ttl, routed=bool(new_keys))
            return [made[k] for k in failed if k in made]
        on_new = set(new_keys)
        legacy_values = {k: v for k, v in values.items() if k not in on_new}
        new_values = {k: values[k] for k in new_keys}
        if new_values and self.write_new("set_many", new_keys, self.new.set_many, new_values, ttl, routed=True):
            self.legacy.delete_many(new_keys)
        else:
            legacy_values.update(new_values)
        failed = self.call_legacy("set_many", self.legacy.set_many, legacy_values, ttl) if legacy_values else []
        if legacy_values:
            stale = [k for k in legacy_values if k not in on_new]
            if stale:
                self.write_new("delete_many", stale, self.new.delete_many, stale, routed=False)
        return [made[k] for k in failed or [] if k in made]

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        """Delete every key from both sides."""
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        if not made:
            return
        routed = any(self.routes_to_new(k) for k in made)
        self.call_legacy("delete_many", self.legacy.delete_many, made)
        self.write_new("delete_many", made, self.new.delete_many, made, routed=routed)

    def clear(self) -> None:
        """Remove every value from both sides."""
        self.call_legacy("clear", self.legacy.clear)
        if self.call_new("clear", self.new.clear, routed=False) is FAILED:
            self.dirty.mark_all()
        else:
            self.dirty.reset()

    def close(self, **kwargs: Any) -> None:
        """Close both sides (Django calls this at the end of every request)."""
        self.legacy.close(**kwargs)
        # Not through call_new: a close per request would swamp the guard's error ratio with free successes.
        try:
            self.new.close(**kwargs)
        except Exception as exc:  # noqa: BLE001 — closing a dead new side is not the caller's problem
            log.debug("cache %s: closing the new side failed: %s", self.name, type(exc).__name__)


def mismatch_kind(new_value: Any, legacy_value: Any) -> MismatchKind | None:
    """Return how the two sides disagree about a key, or None when they agree."""
    if new_value is MISSING and legacy_value is MISSING:
        return None
    if new_value is MISSING:
        return "missing_new"
    if legacy_value is MISSING:
        return "missing_legacy"
    return None if _same(new_value, legacy_value) else "value"


def _same(left: Any, right: Any) -> bool:
    with contextlib.suppress(Exception):  # a value whose __eq__ fails is compared by its pickled form
        if left == right:
            return True
    try:
        return pickle.dumps(left) == pickle.dumps(right)
    except Exception:  # noqa: BLE001 — unpicklable values cannot be cached anyway
        return False
