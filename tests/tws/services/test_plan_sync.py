"""The plan monitor syncs the simulator's plan into the database, transitions and alerts included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tws.conftest import fast_settings
from tws.models import Alert, JobInPlan, JobStatusTransition, JobStream, SyncRun, Workstation
from tws.services import alert_acknowledge, plan_sync
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _v2(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    settings.TWS_SYNC_PAGE_SIZE = 70  # several pages even for 300 jobs


def test_a_sync_stores_every_job_workstation_and_job_stream(sim: ThreadedSimulator) -> None:
    result = plan_sync(settings=fast_settings(sim.url))
    plan = sim.server.plan
    assert result.ok
    assert result.jobs_seen == JobInPlan.objects.count() == 300
    assert Workstation.objects.count() == len(plan.workstations)
    assert JobStream.objects.count() == len({j.stream for j in plan.jobs})
    job = plan.jobs[5]
    row = JobInPlan.objects.get(hwa_id=job.id)
    state = plan.state(job)
    assert (row.name, row.status, row.internal_status, row.return_code) == (
        job.name,
        state.common,
        state.internal,
        state.return_code,
    )
    assert row.workstation == plan.workstations[job.workstation].name
    assert row.job_stream == plan.streams[job.stream].name
    assert SyncRun.objects.get().outcome == "ok"


def test_errors_and_unlinked_workstations_raise_alerts_once(sim: ThreadedSimulator) -> None:
    plan = sim.server.plan
    plan_sync(settings=fast_settings(sim.url))
    errors = sum(1 for j in plan.jobs if plan.state(j).common == "ERROR")
    unlinked = sum(1 for i in range(len(plan.workstations)) if not plan.is_linked(i))
    assert Alert.objects.filter(kind="job_error").count() == errors > 0
    assert Alert.objects.filter(kind="workstation_unlinked").count() == unlinked
    again = plan_sync(settings=fast_settings(sim.url))
    assert again.alerts_opened == 0
    assert Alert.objects.filter(kind="job_error").count() == errors


def test_an_unchanged_resync_writes_nothing_and_a_change_is_a_transition(sim: ThreadedSimulator) -> None:
    settings = fast_settings(sim.url)
    plan_sync(settings=settings)
    unchanged = plan_sync(settings=settings)
    assert (unchanged.jobs_changed, unchanged.transitions) == (0, 0)
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL")
    plan.hold(job)
    changed = plan_sync(settings=settings)
    assert (changed.jobs_changed, changed.transitions) == (1, 1)
    transition = JobStatusTransition.objects.get(job_hwa_id=job.id)
    assert (transition.from_status, transition.to_status) == ("SUCCESSFUL", "HELD")
    plan.release(job)


def test_a_job_going_to_error_opens_an_alert_that_can_be_acknowledged(sim: ThreadedSimulator, operator: Any) -> None:
    from audit.testing import recorded_entries

    settings = fast_settings(sim.url)
    plan_sync(settings=settings)
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common == "RUNNING")
    plan.kill(job)
    plan_sync(settings=settings)
    alert = Alert.objects.get(kind="job_error", target=f"job:{job.id}")
    assert job.name in alert.message
    alert_acknowledge(alert_id=alert.pk, acting_user=operator)
    alert.refresh_from_db()
    assert alert.acknowledged_by == operator
    entries = recorded_entries(action="tws_alert.acknowledged")
    assert entries[-1]["target"] == f"tws_alert:{alert.pk}"


def test_a_failing_sync_is_recorded_and_alerted_never_raised(sim: ThreadedSimulator) -> None:
    sim.set_faults(error_503=1.0)
    result = plan_sync(settings=fast_settings(sim.url, retry_attempts=2))
    assert not result.ok
    assert SyncRun.objects.get().outcome == "failed"
    assert Alert.objects.filter(kind="sync_failing", acknowledged_at__isnull=True).count() == 1
    plan_sync(settings=fast_settings(sim.url, retry_attempts=2))
    assert Alert.objects.filter(kind="sync_failing", acknowledged_at__isnull=True).count() == 1


def test_the_legacy_path_syncs_the_same_rows_under_v1_ids(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fast_settings(sim.url)
    plan_sync(settings=settings)
    fields = ("name", "job_stream", "workstation", "status", "internal_status", "return_code", "start_time")
    v2_rows = set(JobInPlan.objects.values_list(*fields))
    assert set(JobInPlan.objects.values_list("hwa_id", flat=True)) == {j.id for j in sim.server.plan.jobs}
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "false")
    result = plan_sync(settings=settings)
    # Each API names jobs and job streams its own way: every row moves to its v1 ids (tws/services/plan_rekey.py).
    assert (result.jobs_changed, result.jobs_removed, result.transitions) == (300, 0, 0)
    assert SyncRun.objects.order_by("-id").first().api_version == "v1"  # type: ignore[union-attr]
    assert set(JobInPlan.objects.values_list(*fields)) == v2_rows
    assert set(JobInPlan.objects.values_list("hwa_id", flat=True)) == {j.v1_id for j in sim.server.plan.jobs}


@pytest.mark.postgres
def test_upserts_and_alert_deduplication_work_on_postgresql(sim: ThreadedSimulator) -> None:
    settings = fast_settings(sim.url)
    first = plan_sync(settings=settings)
    again = plan_sync(settings=settings)
    assert (first.jobs_changed, again.jobs_changed, again.alerts_opened) == (300, 0, 0)
    plan = sim.server.plan
    job = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL")
    plan.hold(job)
    assert plan_sync(settings=settings).transitions == 1
    plan.release(job)
    other = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL" and j is not job)
    row = JobInPlan.objects.get(hwa_id=other.id)
    assert row.start_time == plan.state(other).started.replace(microsecond=0)  # type: ignore[union-attr]
    assert row.start_time is not None
    assert row.start_time.tzinfo is not None
    assert Alert.objects.filter(kind="job_error").count() == sum(
        1 for j in plan.jobs if plan.state(j).common == "ERROR"
    )


def test_a_circuit_opening_during_a_sync_raises_the_circuit_alert(sim: ThreadedSimulator) -> None:
    sim.set_faults(error_503=1.0)
    result = plan_sync(settings=fast_settings(sim.url, retry_attempts=5, breaker_consecutive_failures=2))
    assert not result.ok
    assert "CircuitOpenError" in result.detail
    assert Alert.objects.filter(kind="circuit_open", acknowledged_at__isnull=True).count() == 1


def test_the_periodic_task_syncs_through_the_configured_connection(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tws.conftest import SIM_PASSWORD, SIM_USER
    from tws.tasks import plan_sync_task

    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    plan_sync_task.call_local()
    assert JobInPlan.objects.count() == 300


def test_the_demo_loader_syncs_a_plan_from_a_temporary_simulator(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tws.demo import load

    monkeypatch.delenv("TWS_BASE_URL", raising=False)
    settings.TWS_SIMULATOR_JOBS = 120
    summary = load()
    assert "120 jobs" in summary
    assert JobInPlan.objects.count() == 120


def test_a_link_going_down_shows_on_the_workstation_and_opens_an_alert(sim: ThreadedSimulator) -> None:
    plan = sim.server.plan
    index = next(i for i in range(len(plan.workstations)) if plan.is_linked(i))
    name = plan.workstations[index].name
    plan_sync(settings=fast_settings(sim.url))
    assert Workstation.objects.get(name=name).link_state == "linked"
    assert not Workstation.objects.filter(link_state="unknown").exists()
    plan.unlink(index, 600)
    try:
        plan_sync(settings=fast_settings(sim.url))
        assert Workstation.objects.get(name=name).link_state == "unlinked"
        assert Alert.objects.filter(kind="workstation_unlinked", target=f"workstation:{name}").count() == 1
    finally:
        plan.workstations[index].outages.pop()
    plan_sync(settings=fast_settings(sim.url))
    assert Workstation.objects.get(name=name).link_state == "linked"


def test_simulated_links_go_down_and_come_back_over_the_day(sim: ThreadedSimulator) -> None:
    plan = sim.server.plan
    flapping = [(i, w.outages[0]) for i, w in enumerate(plan.workstations) if w.outages]
    assert flapping  # some workstation of the generated plan loses its link during the day
    index, (start, end) = flapping[0]
    assert plan.is_linked(index, now=start - 1)
    assert not plan.is_linked(index, now=start)
    assert plan.is_linked(index, now=end)


def test_workstations_keep_the_plans_limit_and_fence(sim: ThreadedSimulator) -> None:
    plan_sync(settings=fast_settings(sim.url))
    stored = {w.name: (w.limit, w.fence) for w in Workstation.objects.all()}
    assert stored == {w.name: (w.limit, w.fence) for w in sim.server.plan.workstations}
    assert len(set(stored.values())) > 1  # they differ between workstations, as in a real plan
