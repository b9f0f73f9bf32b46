"""Test helpers: force a flag, register a guard for a block, inject call figures."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, TypeVar

from cachemig.flags import evaluation
from cachemig.flags.guards import CallFigures
from cachemig.flags.registry import Guard, guard_for, register_guard, unregister_guard

F = TypeVar("F", bound=Callable[..., Any])


class override_flag:
    """Force flag ``name`` to ``active`` in this process: ``with override_flag(...)`` or ``@override_flag(...)``."""

    def __init__(self, name: str, active: bool = True) -> None:
        self.name = name
        self.active = active
        self._previous: list[bool | Literal["unset"]] = []

    def __enter__(self) -> override_flag:
        self._previous.append(evaluation.forced_value_of(self.name))
        evaluation.force(self.name, self.active)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        evaluation.unforce(self.name, self._previous.pop())

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_inner(*args: Any, **kwargs: Any) -> Any:
                with override_flag(self.name, self.active):
                    return await func(*args, **kwargs)

            return async_inner  # type: ignore[return-value]

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with override_flag(self.name, self.active):
                return func(*args, **kwargs)

        return inner  # type: ignore[return-value]


@contextmanager
def registered_guard(flag: str, guard: Guard) -> Iterator[Guard]:
    """Register ``guard`` for ``flag`` for the block, then restore the previous one."""
    previous = guard_for(flag)
    register_guard(flag, guard)
    try:
        yield guard
    finally:
        if previous is None:
            unregister_guard(flag)
        else:
            register_guard(flag, previous)


class InjectedFigures:
    """A figures source for RatioGuard whose calls, errors, fallbacks and circuit opens a test sets."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._figures = CallFigures()
        self.asked_since: list[datetime | None] = []

    def set(self, *, calls: int = 0, errors: int = 0, fallbacks: int = 0, circuit_opens: int = 0) -> None:
        """Make the guard see these figures from now on."""
        with self._lock:
            self._figures = CallFigures(calls=calls, errors=errors, fallbacks=fallbacks, circuit_opens=circuit_opens)

    def __call__(self, since: datetime | None) -> CallFigures:
        with self._lock:
            self.asked_since.append(since)
            return self._figures
