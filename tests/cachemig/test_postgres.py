"""The flag write path and evaluation on PostgreSQL (row locks, JSON figures, on-commit refresh)."""

from __future__ import annotations

from typing import Any

import pytest

from audit.testing import recorded_entries
from cachemig import flags
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.services import flag_rollback, flag_rollout, guards_sweep
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import stage_began_ago

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
FLAG = "TWS_UNIFIED_V2_ENABLED"


def test_a_canary_advances_is_refused_and_is_rolled_back_automatically(
    tws_guard: InjectedFigures, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        flag_rollout(name=FLAG, acting_user="ops")
    stage_began_ago(FLAG, 600)  # the canary has run long enough
    tws_guard.set(calls=1000, errors=5)
    with django_capture_on_commit_callbacks(execute=True):
        flag_rollout(name=FLAG, acting_user="ops")
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25
    on = [k for k in (f"k{i}" for i in range(400)) if flags.is_enabled(FLAG, k)]
    assert on == [k for k in (f"k{i}" for i in range(400)) if flags.normalized_value(FLAG, k) <= 25]
    tws_guard.set(calls=1000, errors=300)
    with django_capture_on_commit_callbacks(execute=True):
        guards_sweep()
    event = RolloutEvent.objects.filter(kind="auto_rollback").get()
    assert event.figures["error_ratio"] == 0.3
    assert not any(flags.is_enabled(FLAG, k) for k in on)


def test_rollback_is_audited_on_postgres() -> None:
    flag_rollout(name=FLAG, to=50, acting_user="ops")
    flag_rollback(name=FLAG, reason="pg drill", acting_user="ops")
    assert recorded_entries(action="flag.rollback")[-1]["data"]["from"] == {"state": "percentage", "percent": 50}


@pytest.mark.django_db(transaction=True)
async def test_async_evaluation_on_postgres() -> None:
    assert flags.is_enabled("MIGRATION_ENABLE_METRICS")
