"""Huey classes that carry the enqueuing request's correlation id into the task."""

from __future__ import annotations

from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Task

from core.context import correlation_scope, get_correlation_id

_KWARG = "_correlation_id"


class CorrelationMixin(Huey):
    """Stamp each task with the current correlation id and restore it while it runs."""

    def enqueue(self, task: Task) -> Any:
        cid = get_correlation_id()
        if cid and isinstance(task, Task):
            task.kwargs = {**task.kwargs, _KWARG: cid}
        return super().enqueue(task)

    def _execute(self, task: Task, timestamp: Any) -> Any:
        cid = task.kwargs.pop(_KWARG, None) if isinstance(task.kwargs, dict) else None
        with correlation_scope(cid):
            return super()._execute(task, timestamp)


class ResyncSqliteHuey(CorrelationMixin, SqliteHuey):
    """SqliteHuey of the embedded default."""


class ResyncRedisHuey(CorrelationMixin, RedisHuey):
    """RedisHuey of the production profile."""
