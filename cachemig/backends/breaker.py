"""A small thread-safe circuit breaker guarding the new cache side.

Written here rather than taken from a library because a cache call must pay
almost nothing for it: the closed-state check is one attribute read, and the
breaker has to report its state to the metrics and the guard (pybreaker's
listeners and global state would cost more than the locmem call it wraps).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]
STATE_CODES: dict[State, int] = {"closed": 0, "open": 1, "half_open": 2}


class CircuitOpenError(Exception):
    """The new side is not called while its circuit is open."""


class CircuitBreaker:
    """Open after ``failure_threshold`` consecutive failures; probe again after ``reset_seconds``."""

    def __init__(
        self,
        *,
        failure_threshold: int,
        reset_seconds: float,
        on_change: Callable[[State, State], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.state: State = "closed"
        self.opened_total = 0
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._lock = threading.Lock()
        self._on_change = on_change
        self._clock = clock

    def allow(self) -> bool:
        """Return whether a call may go to the protected side now."""
        if self.state == "closed":
            return True
        with self._lock:
            if self.state == "open":
                if self._clock() - self._opened_at < self.reset_seconds:
                    return False
                self._move("half_open")
            # Half-open: one probe at a time; everyone else keeps falling back.
            if self._probing:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        """Forget failures after a successful call; a successful probe closes the circuit."""
        if self.state == "closed" and not self._failures:
            return
        with self._lock:
            if self.state == "open":
                return  # a call let through before the circuit opened: only a probe may close it
            self._failures = 0
            self._probing = False
            if self.state != "closed":
                self._move("closed")

    def record_failure(self) -> None:
        """Count a failed call; open the circuit at the threshold or when a probe fails."""
        with self._lock:
            self._failures += 1
            self._probing = False
            if self.state == "half_open" or (self.state == "closed" and self._failures >= self.failure_threshold):
                self._opened_at = self._clock()
                self.opened_total += 1
                self._move("open")

    def reset(self) -> None:
        """Close the circuit and forget failures (operator action, tests)."""
        with self._lock:
            self._failures = 0
            self._probing = False
            if self.state != "closed":
                self._move("closed")

    def _move(self, new: State) -> None:
        old, self.state = self.state, new
        if self._on_change is not None:
            self._on_change(old, new)
