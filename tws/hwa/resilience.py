"""Resilience around HWA calls: circuit breaker, retry with backoff, timeouts.

Retries use tenacity (exponential backoff with full jitter, ``Retry-After``
honoured up to a cap). The breaker is written here: the libraries available
(pybreaker, aiobreaker) count consecutive failures only, while we need the
resilience4j semantics of a failure ratio over a count-based window with a
minimum number of calls, plus limited half-open probes
(see docs/decisions/tws-circuit-breaker.md).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from tws import metrics
from tws.exceptions import CircuitOpenError, TWSConnectionError, TWSTimeoutError, TWSTransientError

T = TypeVar("T")
CircuitState = Literal["closed", "open", "half_open"]
_GAUGE = {"closed": 0, "half_open": 1, "open": 2}


def is_transient(exc: BaseException) -> bool:
    """Return whether ``exc`` is worth another attempt (connection, timeout, 429, 502/503/504)."""
    return isinstance(exc, TWSConnectionError | TWSTransientError)


class CircuitBreaker:
    """Stop calling HWA while it fails; probe it again after ``reset_seconds``."""

    def __init__(
        self,
        *,
        window: int = 50,
        min_calls: int = 20,
        failure_ratio: float = 0.5,
        consecutive_failures: int = 10,
        reset_seconds: float = 30.0,
        half_open_calls: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window, self.min_calls, self.failure_ratio = window, min_calls, failure_ratio
        self.consecutive_limit, self.reset_seconds, self.half_open_calls = (
            consecutive_failures,
            reset_seconds,
            half_open_calls,
        )
        self._clock = clock
        self._outcomes: deque[bool] = deque(maxlen=window)  # True = failure
        self._consecutive = 0
        self._state: CircuitState = "closed"
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self.open_count = 0
        self.rejected_count = 0

    def __repr__(self) -> str:
        return f"CircuitBreaker(state={self.state!r}, opens={self.open_count})"

    @property
    def state(self) -> CircuitState:
        """Return the state, moving open to half-open once the reset time has passed."""
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_seconds:
            self._set("half_open")
        return self._state

    def _set(self, state: CircuitState) -> None:
        self._state = state
        if state == "half_open":
            self._probes_in_flight = self._probe_successes = 0
        metrics.CIRCUIT_STATE.set(_GAUGE[state])

    def _open(self) -> None:
        self._opened_at = self._clock()
        self.open_count += 1
        metrics.CIRCUIT_OPENS.inc()
        self._set("open")

    def _admit(self) -> Literal["normal", "probe"]:
        state = self.state
        if state == "closed":
            return "normal"
        if state == "half_open" and self._probes_in_flight < self.half_open_calls:
            self._probes_in_flight += 1
            return "probe"
        self.rejected_count += 1
        raise CircuitOpenError("the circuit to TWS is open: calls are rejected until it recovers")

    def record(self, *, failed: bool, probe: bool = False) -> None:
        """Record one call's outcome and move the state accordingly."""
        if probe:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            if self._state != "half_open":
                return
            if failed:
                self._open()
                return
            self._probe_successes += 1
            if self._probe_successes >= self.half_open_calls:
                self._outcomes.clear()
                self._consecutive = 0
                self._set("closed")
            return
        if self._state != "closed":
            return
        self._outcomes.append(failed)
        self._consecutive = self._consecutive + 1 if failed else 0
        failures = sum(self._outcomes)
        ratio_tripped = len(self._outcomes) >= self.min_calls and failures / len(self._outcomes) >= self.failure_ratio
        if ratio_tripped or self._consecutive >= self.consecutive_limit:
            self._open()

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn`` through the breaker (transient failures count; other errors do not)."""
        mode = self._admit()
        try:
            result = await fn()
        except asyncio.CancelledError:
            if mode == "probe":
                self._probes_in_flight = max(0, self._probes_in_flight - 1)
            raise
        except Exception as exc:
            self.record(failed=is_transient(exc), probe=mode == "probe")
            raise
        self.record(failed=False, probe=mode == "probe")
        return result


class RetryWithBackoff:
    """Retry transient failures with exponential backoff and full jitter, honouring ``Retry-After``."""

    def __init__(
        self, *, attempts: int = 4, base_seconds: float = 0.2, max_seconds: float = 5.0, retry_after_cap: float = 30.0
    ) -> None:
        self.attempts, self.retry_after_cap = attempts, retry_after_cap
        self.base_seconds, self.max_seconds = base_seconds, max_seconds

    def __repr__(self) -> str:
        return f"RetryWithBackoff(attempts={self.attempts})"

    def delay_after(self, exc: BaseException | None, attempt: int) -> float:
        """Return the pause after failed attempt number ``attempt`` (1-based)."""
        if isinstance(exc, TWSTransientError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.retry_after_cap)
        # Full jitter: uniform between 0 and the capped exponential step.
        return random.uniform(0, min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1)))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        return self.delay_after(exc, state.attempt_number + 1)  # attempt 1 ran before tenacity took over

    @staticmethod
    def _count_retry(state: RetryCallState) -> None:
        metrics.RETRIES.inc()

    async def execute(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Return ``fn()``, retrying transient failures; other errors propagate at once."""
        try:  # the first attempt runs bare: most calls succeed and need no retry machinery
            return await fn()
        except Exception as exc:
            if self.attempts <= 1 or not is_transient(exc):
                raise
            first_delay = self.delay_after(exc, 1)
        metrics.RETRIES.inc()
        await asyncio.sleep(first_delay)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts - 1),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await fn()
        raise RuntimeError("unreachable: tenacity reraises the last error")  # pragma: no cover


class TimeoutManager:
    """Bound every call in time."""

    def __init__(self, *, default_seconds: float = 10.0) -> None:
        self.default_seconds = default_seconds

    def __repr__(self) -> str:
        return f"TimeoutManager(default_seconds={self.default_seconds})"

    async def with_timeout(self, fn: Callable[[], Awaitable[T]], seconds: float | None = None) -> T:
        """Return ``fn()`` or raise ``TWSTimeoutError`` after ``seconds``."""
        limit = self.default_seconds if seconds is None else seconds
        try:
            async with asyncio.timeout(limit):
                return await fn()
        except TimeoutError:
            raise TWSTimeoutError(f"TWS did not answer within {limit:g} s") from None
