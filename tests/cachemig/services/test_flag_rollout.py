"""flag_rollout advances stage by stage behind the guard's gates."""

from __future__ import annotations

import pytest

from audit.testing import recorded_entries
from cachemig import flags
from cachemig.exceptions import GateRefused, RolloutConflict
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.services import flag_rollout
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent, stage_began_ago

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"


def percent_of(name: str) -> int:
    return FeatureFlag.objects.get(name=name).exposure


def test_the_first_stage_needs_no_gate_and_follows_the_plan(tws_guard: InjectedFigures) -> None:
    outcome = flag_rollout(name=FLAG, acting_user="ops", reason="canary")
    assert (outcome.from_percent, outcome.to_percent, outcome.applied) == (0, 5, True)
    assert percent_of(FLAG) == 5
    event = RolloutEvent.objects.filter(flag_name=FLAG).first()
    assert event is not None
    assert (event.kind, event.from_percent, event.to_percent, event.actor, event.reason) == (
        "rollout",
        0,
        5,
        "ops",
        "canary",
    )


def test_healthy_figures_advance_to_the_next_stage_and_are_recorded(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 5)
    stage_began_ago(FLAG, 600)
    tws_guard.set(calls=1000, errors=3)
    outcome = flag_rollout(name=FLAG, acting_user="ops")
    assert (outcome.to_percent, outcome.gate_ok, outcome.forced) == (25, True, False)
    event = RolloutEvent.objects.filter(flag_name=FLAG, kind="rollout").get()
    assert event.figures["calls"] == 1000
    assert event.figures["error_ratio"] == 0.003
    assert recorded_entries(action="flag.rollout")[-1]["data"]["to"] == {"state": "percentage", "percent": 25}


def test_a_breached_guard_refuses_and_says_why(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=500, errors=60)
    with pytest.raises(GateRefused) as refused:
        flag_rollout(name=FLAG, acting_user="ops")
    message = str(refused.value)
    assert "error ratio 12.0% > 5.0%" in message
    assert "error_ratio=0.12" in message
    assert "calls=500" in message
    assert percent_of(FLAG) == 25
    assert not RolloutEvent.objects.filter(kind="rollout").exists()


def test_a_stage_younger_than_the_minimum_refuses_however_good_the_figures(
    tws_guard: InjectedFigures,
) -> None:
    at_percent(FLAG, 5)
    tws_guard.set(calls=1000, errors=0)
    with pytest.raises(GateRefused, match=r"too soon: \d+ s at this stage, the gate needs 300 s"):
        flag_rollout(name=FLAG, acting_user="ops")
    stage_began_ago(FLAG, 301)
    assert flag_rollout(name=FLAG, acting_user="ops").to_percent == 25


def test_a_guard_that_counts_nothing_is_no_evidence(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 5)
    stage_began_ago(FLAG, 600)
    tws_guard.set(calls=0, errors=0)
    with pytest.raises(GateRefused, match=r"not enough calls since the last stage: 0 < 100"):
        flag_rollout(name=FLAG, acting_user="ops")


def test_too_few_calls_since_the_last_stage_refuses(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 5)
    tws_guard.set(calls=12, errors=0)
    with pytest.raises(GateRefused, match=r"not enough calls since the last stage: 12 < 100"):
        flag_rollout(name=FLAG, acting_user="ops")


def test_a_flag_without_a_guard_cannot_pass_its_gates() -> None:
    at_percent("MIGRATION_USE_NEW_RATE_LIMIT", 10)
    with pytest.raises(GateRefused, match="no guard registered"):
        flag_rollout(name="MIGRATION_USE_NEW_RATE_LIMIT", acting_user="ops")


def test_force_advances_past_a_breached_guard_and_records_it(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=500, errors=60)
    outcome = flag_rollout(name=FLAG, force=True, acting_user="ops", reason="vendor confirmed false alarm")
    assert (outcome.to_percent, outcome.forced) == (50, True)
    event = RolloutEvent.objects.filter(kind="rollout").get()
    assert event.forced
    assert event.figures["error_ratio"] == 0.12
    entry = recorded_entries(action="flag.rollout")[-1]
    assert entry["data"]["forced"] is True
    assert entry["data"]["reason"] == "vendor confirmed false alarm"
    assert entry["target"] == f"flag:{FLAG}"


def test_a_dry_run_shows_the_gates_and_changes_nothing(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=500, errors=60)
    outcome = flag_rollout(name=FLAG, dry_run=True, acting_user="ops")
    assert (outcome.to_percent, outcome.gate_ok, outcome.applied) == (50, False, False)
    assert "guard breached" in outcome.gate_reason
    assert percent_of(FLAG) == 25


def test_the_last_stage_turns_the_flag_on_and_there_is_no_further_stage(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 50)
    stage_began_ago(FLAG, 600)
    tws_guard.set(calls=1000)
    flag_rollout(name=FLAG, acting_user="ops")
    assert FeatureFlag.objects.get(name=FLAG).state == "on"
    assert flags.is_enabled(FLAG, "any-key")
    with pytest.raises(RolloutConflict, match="last stage"):
        flag_rollout(name=FLAG, acting_user="ops")


def test_to_jumps_to_a_chosen_percentage_but_never_down() -> None:
    flag_rollout(name=FLAG, to=20, acting_user="ops")
    assert percent_of(FLAG) == 20
    with pytest.raises(RolloutConflict, match="use rollback"):
        flag_rollout(name=FLAG, to=10, force=True, acting_user="ops")


def test_the_guard_measures_since_the_stage_began(tws_guard: InjectedFigures) -> None:
    flag_rollout(name=FLAG, acting_user="ops")
    stage_began_ago(FLAG, 600)
    started = FeatureFlag.objects.get(name=FLAG).stage_started_at
    tws_guard.set(calls=1000)
    flag_rollout(name=FLAG, acting_user="ops")
    assert tws_guard.asked_since[-1] == started
