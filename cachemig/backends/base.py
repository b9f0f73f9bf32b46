"""The plumbing of ``MigratingCache``: its two sides, the breaker, the figures, repairs and key checks."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, CacheKeyWarning, memcache_key_warnings

from cachemig import flags
from cachemig.backends.adapters import AdaptersMixin, AsyncTwinsMixin
from cachemig.backends.options import MigratingOptions
from cachemig.backends.sides import FAILED, MISSING, build_side, remaining_timeout
from cachemig.backends.state import shared_state
from cachemig.flags import figures

log = logging.getLogger("resync.cachemig.cache")
VALID_KEYS_REMEMBERED = 10_000  # validating a key costs more than a locmem get: remember the clean ones


class MigratingBase(AsyncTwinsMixin, AdaptersMixin):
    """Build both sides from their aliases and call them: the new one through the breaker, counted."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.name = location or "default"
        self.options = MigratingOptions.from_params(params.get("OPTIONS", {}))
        self.legacy = build_side(self.options.legacy_alias)
        self.new = build_side(self.options.new_alias)
        state = shared_state(self.name, self.options)
        self.telemetry, self.breaker, self.dirty = state.telemetry, state.breaker, state.dirty
        self._valid_keys: set[str] = set()
        self._figures_client = figures.redis_client(self.new)

    def validate_key(self, key: Any) -> None:
        """Warn about keys memcached would refuse, as BaseCache does; remember keys found clean."""
        valid = self._valid_keys
        if key in valid:
            return
        problems = list(memcache_key_warnings(key))
        for problem in problems:
            warnings.warn(problem, CacheKeyWarning, stacklevel=2)
        if not problems:
            if len(valid) >= VALID_KEYS_REMEMBERED:
                valid.clear()
            valid.add(key)

    # --- routing and the protected new side ---------------------------------

    def routes_to_new(self, key: str) -> bool:
        """Return whether the new side answers for made key ``key`` now."""
        try:
            return flags.is_enabled(self.options.flag, key=key)
        except Exception:  # noqa: BLE001 — an unreadable flag store means "stay on legacy", never an error
            return False

    def call_new(
        self,
        operation: str,
        fn: Callable[..., Any],
        *args: Any,
        routed: bool,
        semantic: tuple[type[Exception], ...] = (),
        read: bool = False,
    ) -> Any:
        """Call ``fn`` on the new side through the breaker; return FAILED instead of raising.

        ``read``: the call is a single-key read whose MISSING result is a miss (counted here, in one lock).
        """
        if not self.breaker.allow():
            if self.telemetry.new_outcome(operation, "rejected", routed=routed):
                self.publish_figures()
            return FAILED
        timed = self.telemetry.metrics_on()
        started = time.perf_counter() if timed else 0.0
        try:
            value = fn(*args)
        except semantic:
            self.breaker.record_success()
            self.telemetry.new_outcome(operation, "ok", routed=routed)
            raise
        except Exception as exc:  # noqa: BLE001 — any failure of the new side is answered by the legacy one
            self.breaker.record_failure()
            if self.telemetry.new_outcome(operation, "error", routed=routed):
                self.publish_figures()
            # Counted in the figures; the breaker logs once when it opens, not once per call.
            log.debug("cache %s: new side failed on %s: %s", self.name, operation, type(exc).__name__)
            return FAILED
        self.breaker.record_success()
        due = self.telemetry.new_outcome(
            operation,
            "ok",
            routed=routed,
            seconds=time.perf_counter() - started if timed else None,
            read=("hit" if value is not MISSING else "miss") if read else "not_a_read",
        )
        if due:
            self.publish_figures()
        return value

    def publish_figures(self) -> None:
        """Hand the completed seconds of the guard window to the shared figures (about once a second)."""
        client = self._figures_client if self.breaker.state == "closed" else None
        self.telemetry.window.publish(client, keep_seconds=self.options.guard_window_seconds + 60)

    def guard_totals(self, since: float) -> tuple[dict[str, int], bool]:
        """Return the guard window's figures from ``since`` and whether they are the whole fleet's."""
        client = self._figures_client if self.breaker.state == "closed" else None
        return self.telemetry.window.fleet_totals(client, since)

    def call_legacy(self, operation: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn`` on the legacy side (its exceptions reach the caller, as the built-in backend's would)."""
        if not self.telemetry.metrics_on():
            return fn(*args)
        started = time.perf_counter()
        try:
            return fn(*args)
        except ValueError:
            raise
        except Exception:
            self.telemetry.legacy_error(operation)
            raise
        finally:
            self.telemetry.observe("legacy", operation, time.perf_counter() - started)

    def write_new(self, operation: str, keys: list[str], fn: Callable[..., Any], *args: Any, routed: bool) -> bool:
        """Apply a write to the new side; remember the keys it missed."""
        if self.call_new(operation, fn, *args, routed=routed) is FAILED:
            self.dirty.mark(keys)
            return False
        if operation in {"set", "delete", "set_many", "delete_many"}:
            self.dirty.discard(keys)
        return True

    def new_is_clean(self, key: str) -> bool:
        """Return whether the new side may answer for ``key``, repairing it first when a write missed it."""
        if not self.dirty.active or not self.dirty.contains(key):
            return True
        if self.dirty.stale_all:
            if self.call_new("repair", self.new.clear, routed=True) is FAILED:
                return False
            self.dirty.reset()
            return True
        value = self.legacy.get(key, MISSING)
        if value is MISSING:
            done = self.call_new("repair", self.new.delete, key, routed=True)
        else:
            ttl = remaining_timeout(self.legacy, key, self.options.warm_timeout)
            done = self.call_new("repair", self.new.set, key, value, ttl, routed=True)
        if done is FAILED:
            return False
        self.dirty.discard([key])
        return True

    def warm(self, key: str) -> Any:
        """Copy ``key`` from the legacy side into the new one; return its value or MISSING."""
        value = self.call_legacy("get", self.legacy.get, key, MISSING)
        self.telemetry.read("legacy", value is not MISSING)
        if value is not MISSING:
            ttl = remaining_timeout(self.legacy, key, self.options.warm_timeout)
            self.call_new("warm", self.new.add, key, value, ttl, routed=False)
        return value

    def resolve_timeout(self, timeout: Any) -> Any:
        """Return the timeout to give both sides (this cache's default when none is given)."""
        return self.default_timeout if timeout is DEFAULT_TIMEOUT else timeout
