"""The per-minute tick spreads guard sweeps over the minute."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from huey.contrib.djhuey import HUEY

from cachemig.tasks import flags_guard_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_huey() -> Iterator[Any]:
    HUEY.immediate = True  # in-memory storage: scheduled sweeps are visible, nothing touches var/
    try:
        yield HUEY
    finally:
        HUEY.immediate = False


@pytest.mark.parametrize(("interval", "later_sweeps"), [(10, 5), (30, 1), (60, 0)])
def test_the_tick_sweeps_now_and_schedules_the_rest_of_the_minute(
    immediate_huey: Any, settings: Any, interval: int, later_sweeps: int
) -> None:
    settings.CACHEMIG_GUARD_INTERVAL_SECONDS = interval
    flags_guard_sweep.call_local()
    scheduled = immediate_huey.scheduled()
    assert len(scheduled) == later_sweeps
    assert {task.name for task in scheduled} <= {"flags_guard_sweep_tick"}
