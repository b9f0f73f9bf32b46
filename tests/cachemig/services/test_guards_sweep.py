"""The guard sweep rolls a breached flag back automatically and leaves the alert behind."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

from audit.testing import recorded_entries
from cachemig import flags
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.services import guards_sweep
from cachemig.tasks import flags_guard_sweep
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"


def auto_rollbacks(flag: str) -> float:
    return REGISTRY.get_sample_value("flag_auto_rollbacks_total", {"flag": flag}) or 0.0


def test_an_injected_error_ratio_rolls_the_flag_back_with_its_figures(
    tws_guard: InjectedFigures, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    at_percent(FLAG, 25)
    before = auto_rollbacks(FLAG)
    tws_guard.set(calls=400, errors=48, fallbacks=4)
    with caplog.at_level(logging.ERROR, logger="resync.flags"), django_capture_on_commit_callbacks(execute=True):
        breached = guards_sweep()
    assert [name for name, _ in breached] == [FLAG]
    assert not any(flags.is_enabled(FLAG, f"k{i}") for i in range(200))
    event = RolloutEvent.objects.filter(flag_name=FLAG, kind="auto_rollback").get()
    assert (event.from_percent, event.to_percent, event.actor) == (25, 0, "system")
    assert event.reason == "auto: error ratio 12.0% > 5.0%"
    assert event.figures["error_ratio"] == 0.12
    assert event.figures["calls"] == 400
    assert FeatureFlag.objects.get(name=FLAG).reason.startswith("auto: ")
    assert auto_rollbacks(FLAG) == before + 1
    assert f"ALERT flag {FLAG} rolled back automatically from 25%" in caplog.text
    assert recorded_entries(action="flag.auto_rollback")[-1]["data"]["figures"]["error_ratio"] == 0.12


def test_healthy_or_thin_figures_leave_the_flag_alone(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=1000, errors=10)
    assert guards_sweep() == []
    tws_guard.set(calls=20, errors=20)  # below min_calls: no evidence yet
    assert guards_sweep() == []
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25


def test_a_guard_that_raises_counts_as_breached() -> None:
    def broken() -> flags.GuardReport:
        raise ConnectionError("metrics store unreachable")

    flags.register_guard("MIGRATION_USE_NEW_RATE_LIMIT", broken)
    at_percent("MIGRATION_USE_NEW_RATE_LIMIT", 10)
    guards_sweep()
    event = RolloutEvent.objects.filter(flag_name="MIGRATION_USE_NEW_RATE_LIMIT", kind="auto_rollback").get()
    assert "guard failed: ConnectionError: metrics store unreachable" in event.reason


def test_with_auto_rollback_off_a_breach_is_only_reported(tws_guard: InjectedFigures, settings: Any) -> None:
    settings.CACHEMIG_AUTO_ROLLBACK = False
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=200)
    assert len(guards_sweep()) == 1
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25


def test_the_huey_task_runs_the_sweep(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 5)
    tws_guard.set(calls=400, errors=200)
    assert flags_guard_sweep.call_local() == 1
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0
