"""What every instance of one migrating cache shares in a process: figures, breaker, keys to repair."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from cachemig.backends.breaker import STATE_CODES, CircuitBreaker, State
from cachemig.backends.options import MigratingOptions
from cachemig.backends.telemetry import Telemetry, forget, telemetry_for

log = logging.getLogger("resync.cachemig.cache")


class DirtyKeys:
    """Keys whose write or delete did not reach the new side: it may hold a stale value for them.

    A key routed to the new side is repaired from the legacy side before the
    new side answers for it. Past ``limit`` keys the set gives up and asks for
    one clear of the new side instead (a cold cache is correct; a stale one is not).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = False  # read without the lock on the hot path: a cheap "anything to repair?"
        self.stale_all = False
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def mark(self, keys: Iterable[str]) -> None:
        """Remember keys the new side missed."""
        with self._lock:
            if not self.stale_all:
                self._keys.update(keys)
                if len(self._keys) > self.limit:
                    log.warning("cache: more than %s keys missed the new side; it will be cleared", self.limit)
                    self._keys.clear()
                    self.stale_all = True
            self.active = True

    def mark_all(self) -> None:
        """Remember that the whole new side is suspect (a failed clear)."""
        with self._lock:
            self._keys.clear()
            self.stale_all = self.active = True

    def contains(self, key: str) -> bool:
        """Return whether the new side may be stale for ``key``."""
        return self.stale_all or key in self._keys

    def discard(self, keys: Iterable[str]) -> None:
        """Forget keys the new side now holds correctly."""
        if not self.active:
            return
        with self._lock:
            self._keys.difference_update(keys)
            self.active = self.stale_all or bool(self._keys)

    def reset(self) -> None:
        """Forget everything (the new side was cleared)."""
        with self._lock:
            self._keys.clear()
            self.stale_all = self.active = False

    def count(self) -> int:
        """Return how many keys wait for repair (-1: the whole side)."""
        return -1 if self.stale_all else len(self._keys)


@dataclass
class SharedState:
    """The figures, breaker and keys to repair of one migrating cache LOCATION."""

    telemetry: Telemetry
    breaker: CircuitBreaker
    dirty: DirtyKeys


_states: dict[str, SharedState] = {}
_lock = threading.Lock()


def shared_state(name: str, options: MigratingOptions) -> SharedState:
    """Return the state of migrating cache ``name`` in this process, created on first use."""
    found = _states.get(name)
    if found is not None:
        return found
    with _lock:
        found = _states.get(name)
        if found is None:
            telemetry = telemetry_for(name, window_seconds=options.guard_window_seconds)

            def changed(old: State, new: State) -> None:
                level = logging.WARNING if new == "open" else logging.INFO
                log.log(level, "cache %s: new side circuit %s -> %s", name, old, new)
                telemetry.circuit_changed(STATE_CODES[new], breaker.opened_total)

            breaker = CircuitBreaker(
                failure_threshold=options.breaker_failure_threshold,
                reset_seconds=options.breaker_reset_seconds,
                on_change=changed,
            )
            found = _states[name] = SharedState(telemetry, breaker, DirtyKeys(options.dirty_keys_max))
    return found


def drop_state(name: str) -> None:
    """Forget the state of ``name`` (tests that build many caches)."""
    with _lock:
        _states.pop(name, None)
    forget(name)
