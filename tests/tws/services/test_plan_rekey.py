"""Switching TWS_UNIFIED_V2_ENABLED carries the synced plan, its history and its open alerts to the other API's ids."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tws.conftest import fast_settings
from tws.models import Alert, JobInPlan, JobStatusTransition
from tws.services import plan_sync
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _v2(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0


def _open_error_targets() -> set[str]:
    return set(Alert.objects.filter(kind="job_error", acknowledged_at__isnull=True).values_list("target", flat=True))


@pytest.mark.parametrize(("first", "then"), [("true", "false"), ("false", "true")])
def test_a_switch_moves_jobs_history_and_alerts_to_the_new_ids(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch, first: str, then: str
) -> None:
    settings = fast_settings(sim.url)
    plan = sim.server.plan
    id_of = {"true": lambda j: j.id, "false": lambda j: j.v1_id}
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", first)
    assert plan_sync(settings=settings).ok
    in_error = [j for j in plan.jobs if plan.state(j).common == "ERROR"]
    assert _open_error_targets() == {f"job:{id_of[first](j)}" for j in in_error}
    job = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL" and j.id not in plan.held)
    plan.hold(job)
    assert plan_sync(settings=settings).transitions == 1
    plan.release(job)

    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", then)
    result = plan_sync(settings=settings)

    assert result.ok
    assert (result.transitions, result.alerts_opened, result.jobs_removed) == (1, 0, 0)  # HELD -> SUCCESSFUL
    assert set(JobInPlan.objects.values_list("hwa_id", flat=True)) == {id_of[then](j) for j in plan.jobs}
    history = JobStatusTransition.objects.filter(job_hwa_id=id_of[then](job)).order_by("id")
    assert [(t.from_status, t.to_status) for t in history] == [("SUCCESSFUL", "HELD"), ("HELD", "SUCCESSFUL")]
    assert _open_error_targets() == {f"job:{id_of[then](j)}" for j in in_error}


def test_no_switch_no_rekey(sim: ThreadedSimulator) -> None:
    settings = fast_settings(sim.url)
    plan_sync(settings=settings)
    rows = dict(JobInPlan.objects.values_list("hwa_id", "pk"))
    again = plan_sync(settings=settings)
    assert (again.jobs_changed, again.transitions) == (0, 0)
    assert dict(JobInPlan.objects.values_list("hwa_id", "pk")) == rows
