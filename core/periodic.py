"""Huey periodic work that may run more often than once a minute.

Huey's periodic tasks fire at most once a minute (their schedule is a crontab). For an interval
below 60 s, the minute's task runs the work now and schedules the rest of the minute's runs as
ordinary tasks: they live in the queue, so they survive the loss of the consumer that scheduled
them. An interval of a minute or more becomes the crontab itself. ``lock`` keeps one run at a time
across every consumer; a run that finds the lock taken is skipped and returns ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from huey import crontab
from huey.api import TaskWrapper
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task
from huey.exceptions import TaskLockedException

T = TypeVar("T")


def _crontab(seconds: int) -> crontab:
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return crontab(minute=f"*/{minutes}")
    return crontab(minute="0", hour=f"*/{max(1, minutes // 60)}")


def every_seconds(interval: Callable[[], int], *, lock: str | None = None) -> Callable[[Callable[[], T]], TaskWrapper]:
    """Run the decorated function every ``interval()`` seconds as a periodic task of the same name.

    The returned periodic task has a ``tick`` attribute: the one-off task (``<name>_tick``) that
    carries the runs between two firings. Huey names both after the decorated function's module.
    """

    def decorate(work: Callable[[], T]) -> TaskWrapper:
        def run_once() -> T | None:
            if lock is None:
                return work()
            try:
                with HUEY.lock_task(lock):
                    return work()
            except TaskLockedException:
                return None  # the previous run still holds the lock: this tick is skipped

        name = work.__name__
        run_once.__module__ = work.__module__
        tick = db_task(name=f"{name}_tick", retries=0)(run_once)

        def fire() -> T | None:
            seconds = max(1, int(interval()))
            for offset in range(seconds, 60, seconds) if seconds < 60 else ():
                tick.schedule(delay=offset)
            return run_once()

        fire.__doc__ = work.__doc__
        fire.__module__ = work.__module__
        periodic: Any = db_periodic_task(_crontab(int(interval())), name=name)(fire)
        periodic.tick = tick
        return periodic

    return decorate
