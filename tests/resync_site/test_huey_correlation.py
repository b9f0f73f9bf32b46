"""The enqueuing request's correlation id travels into the Huey task."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huey.contrib.djhuey import HUEY

from core.context import correlation_scope, get_correlation_id

seen: list[str | None] = []


@HUEY.task()
def remember_correlation_id() -> None:
    seen.append(get_correlation_id())


@pytest.fixture
def immediate_huey() -> Iterator[None]:
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = False


def test_task_runs_with_the_enqueuing_correlation_id(immediate_huey: None) -> None:
    seen.clear()
    with correlation_scope("trace-abc"):
        remember_correlation_id()
    remember_correlation_id()  # enqueued outside any request: gets a fresh id of its own
    assert seen[0] == "trace-abc"
    assert seen[1] not in (None, "trace-abc")
