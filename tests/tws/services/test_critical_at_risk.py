"""Critical jobs at risk: from a plan built so that exactly known jobs will miss their critical start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws import metrics, selectors
from tws.dashboard import at_risk_card
from tws.models import Alert, JobInPlan
from tws.services import plan_sync
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[tuple[ThreadedSimulator, dict[str, Any]]]:
    """Serve a plan whose critical jobs are chosen here: two late, one within the margin, one safe, one done."""
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    sim = ThreadedSimulator(jobs=240, seed=4242, username=SIM_USER, password=SIM_PASSWORD)
    plan = sim.server.plan
    plan.freeze(True)
    now = plan.now()
    for job in plan.jobs:
        job.critical_start = None
    waiting = [j for j in plan.jobs if plan.state(j).common == "WAITING"]
    due = [j for j in waiting if plan.streams[j.stream].sched_offset <= now]  # scheduled already, not started
    done = next(j for j in plan.jobs if plan.state(j).common == "SUCCESSFUL")
    chosen = {"late": due[:2], "near": due[2:3], "safe": due[3:4], "done": [done]}
    for job in chosen["late"]:
        job.critical_start = now - 1200  # 20 min ago
    chosen["near"][0].critical_start = now + 120  # in 2 min: inside the 5-min margin
    chosen["safe"][0].critical_start = now + 7200
    done.critical_start = now - 3600  # it started long ago: nothing to miss any more
    try:
        yield sim, {k: [j.id for j in v] for k, v in chosen.items()}
    finally:
        sim.close()


def test_exactly_the_known_jobs_are_at_risk_with_their_lateness(
    built: tuple[ThreadedSimulator, dict[str, Any]], admin_client_: Client
) -> None:
    sim, chosen = built
    assert plan_sync(settings=fast_settings(sim.url)).ok
    assert JobInPlan.objects.filter(critical_start__isnull=False).count() == 5
    at_risk = {r.job.hwa_id: r for r in selectors.critical_at_risk()}
    assert set(at_risk) == {*chosen["late"], *chosen["near"]}
    for hwa_id in chosen["late"]:
        assert 19 * 60 <= at_risk[hwa_id].lateness.total_seconds() <= 25 * 60
    assert -3 * 60 <= at_risk[chosen["near"][0]].lateness.total_seconds() < 0
    assert metrics.CRITICAL_AT_RISK._value.get() == 3
    alerts = set(Alert.objects.filter(kind="critical_at_risk").values_list("target", flat=True))
    assert alerts == {f"job:{h}" for h in [*chosen["late"], *chosen["near"]]}

    card = at_risk_card()
    assert card["state"] == "down"
    values = {m["key"]: m["value"] for m in card["metrics"]}
    assert values == {"at_risk": 3, "late": 2, "critical": 5}
    for m in card["metrics"]:  # every count opens the list of exactly those jobs
        rows = admin_client_.get(m["url"]).content.decode().count('class="action-checkbox"')
        assert rows == m["value"], m["key"]
