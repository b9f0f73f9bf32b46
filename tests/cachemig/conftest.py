"""Fixtures of the feature-flag tests: a fresh flag cache per test, guards restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cachemig.flags import RatioGuard, evaluation, registry
from cachemig.testing import InjectedFigures, registered_guard


@pytest.fixture(autouse=True)
def _fresh_flags(settings: Any) -> Iterator[None]:
    settings.CACHEMIG_STRICT_FLAGS = True
    evaluation.invalidate()
    evaluation._reported_unknown.clear()
    guards = dict(registry._guards)
    yield
    registry._guards.clear()
    registry._guards.update(guards)
    evaluation.invalidate()


@pytest.fixture
def figures() -> InjectedFigures:
    """Return injectable call figures."""
    return InjectedFigures()


@pytest.fixture
def tws_guard(figures: InjectedFigures) -> Iterator[InjectedFigures]:
    """Register a RatioGuard (min 100 calls, max 5 % errors) on TWS_UNIFIED_V2_ENABLED fed by ``figures``."""
    with registered_guard("TWS_UNIFIED_V2_ENABLED", RatioGuard("TWS_UNIFIED_V2_ENABLED", source=figures)):
        yield figures


def at_percent(name: str, percent: int) -> None:
    """Put flag ``name`` at ``percent`` through the services, as an operator would."""
    from cachemig.services import flag_set

    state = "off" if percent == 0 else "on" if percent == 100 else "percentage"
    flag_set(name=name, state=state, percent=percent, acting_user="tests", reason="test setup")


def stage_began_ago(name: str, seconds: float) -> None:
    """Date the start of ``name``'s current stage ``seconds`` back (the time a canary has already run)."""
    import datetime as dt

    from django.utils import timezone

    from cachemig import flags
    from cachemig.models import FeatureFlag

    FeatureFlag.objects.filter(name=name).update(stage_started_at=timezone.now() - dt.timedelta(seconds=seconds))
    flags.invalidate()
