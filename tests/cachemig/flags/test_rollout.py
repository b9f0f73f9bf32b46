"""Rollout rules: the next stage of a plan, an explicit target, and the gate a guard's report sets."""

from __future__ import annotations

import pytest

from cachemig import flags
from cachemig.exceptions import RolloutConflict
from cachemig.testing import registered_guard

PLAN = (5, 25, 50, 100)
FLAG = "TWS_UNIFIED_V2_ENABLED"


def test_a_rollout_follows_the_plan_or_goes_to_an_explicit_higher_target() -> None:
    assert flags.next_stage(name=FLAG, current=0, stages=PLAN, to=None) == 5
    assert flags.next_stage(name=FLAG, current=10, stages=PLAN, to=None) == 25  # set by hand between stages
    assert flags.next_stage(name=FLAG, current=25, stages=PLAN, to=75) == 75


@pytest.mark.parametrize(
    ("current", "to", "message"),
    [(100, None, r"last stage of its plan \(5,25,50,100\)"), (50, 25, "use rollback"), (0, 101, "between 1 and 100")],
)
def test_a_rollout_that_cannot_go_up_says_why(current: int, to: int | None, message: str) -> None:
    with pytest.raises(RolloutConflict, match=message):
        flags.next_stage(name=FLAG, current=current, stages=PLAN, to=to)


def test_leaving_zero_is_not_gated_but_later_stages_need_a_healthy_guard_with_evidence() -> None:
    with registered_guard(FLAG, lambda: flags.GuardReport(ok=True, figures={"calls": 3, "min_calls": 20})):
        assert flags.rollout_gate(FLAG, current=0)[1:] == (True, "first stage: nothing is exposed yet, no gate")
        _report, ok, why = flags.rollout_gate(FLAG, current=5)
        assert not ok
        assert "not enough calls" in why
    with registered_guard(FLAG, lambda: flags.GuardReport(ok=False, reason="v2 down")):
        assert flags.rollout_gate(FLAG, current=5)[1:] == (False, "guard breached: v2 down")
