"""The rollout guard of TWS_UNIFIED_V2_ENABLED judges the v2 calls of every process, and the sweep acts on it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cachemig import flags
from tests.tws.conftest import fast_settings
from tws import guard
from tws.hwa.client import forget_tws_clients, get_tws_client, reset_tws_client
from tws.simulator.threaded import ThreadedSimulator

FLAG = "TWS_UNIFIED_V2_ENABLED"
REPO = Path(__file__).resolve().parents[2]

# A web process whose v2 calls all fail: the breaker opens, every call counts as a v2 error.
FAILING_WEB_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    import django

    django.setup()
    from tests.tws.conftest import fast_settings
    from tws.hwa.client import get_tws_client, reset_tws_client

    async def main(url, job_id):
        client = await get_tws_client(settings=fast_settings(url, retry_attempts=1, breaker_consecutive_failures=3))
        for _ in range(40):
            try:
                await client.get_job(job_id)
            except Exception:
                pass
        await asyncio.sleep(1.2)  # the next call publishes the completed seconds
        try:
            await client.get_job(job_id)
        except Exception:
            pass
        await reset_tws_client()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


@pytest.fixture(autouse=True)
def _fresh_figures() -> Iterator[None]:
    # The figures are per process: note what earlier tests' clients counted, then start from none.
    guard.v2_figures(None)
    guard.V2_FIGURES.clear()
    yield
    forget_tws_clients()
    guard.v2_figures(None)
    guard.V2_FIGURES.clear()


def test_the_tws_app_registers_the_guard() -> None:
    assert flags.guard_for(FLAG) is guard.unified_v2_guard


async def test_the_guard_reports_v2_errors_and_circuit_opens(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    await reset_tws_client()
    client = await get_tws_client(settings=fast_settings(sim.url, retry_attempts=1, breaker_consecutive_failures=3))
    await client.get_job(sim.server.plan.jobs[0].id)
    healthy = flags.evaluate_guard(FLAG)
    assert healthy is not None
    assert healthy.ok, healthy.reason
    sim.set_faults(error_503=1.0)
    for _ in range(5):
        try:
            await client.get_job(sim.server.plan.jobs[0].id)
        except Exception:  # noqa: S112 — failing on purpose until the breaker opens
            continue
    report = flags.evaluate_guard(FLAG)
    assert report is not None
    assert not report.ok
    assert "circuit opened" in report.reason
    assert report.figures["circuit_opens"] >= 1
    assert report.figures["error_ratio"] > 0.5
    await reset_tws_client()


@pytest.mark.redis
@pytest.mark.django_db
def test_failures_in_another_process_breach_the_guard_here_and_the_sweep_rolls_the_flag_back(
    sim: ThreadedSimulator, worker_redis_url: str, settings: Any, tmp_path: Path
) -> None:
    from cachemig.models import FeatureFlag, RolloutEvent
    from cachemig.services import flag_set, guards_sweep

    # This process is the worker that sweeps the guards: it made no TWS call itself.
    settings.CACHES = {
        **settings.CACHES,
        "new": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": worker_redis_url},
    }
    flag_set(name=FLAG, state="percentage", percent=5, acting_user="tests", reason="first canary stage")
    report = flags.evaluate_guard(FLAG)
    assert report is not None
    assert report.ok
    assert report.figures["calls"] == 0

    sim.set_faults(error_503=1.0)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
        "REDIS_URL": worker_redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "APP_TWS_UNIFIED_V2_ENABLED": "true",
        "PYTHONPATH": str(REPO),
    }
    job_id = str(sim.server.plan.jobs[0].id)
    web = subprocess.run(
        [sys.executable, "-c", FAILING_WEB_PROCESS, sim.url, job_id],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert web.returncode == 0, web.stderr[-3000:]

    report = flags.evaluate_guard(FLAG)
    assert report is not None
    assert not report.ok
    assert report.figures["calls"] >= 20
    assert report.figures["circuit_opens"] >= 1

    assert [name for name, _ in guards_sweep()] == [FLAG]
    flag = FeatureFlag.objects.get(name=FLAG)
    assert (flag.state, flag.exposure) == ("off", 0)
    rollback = RolloutEvent.objects.get(flag_name=FLAG, kind="auto_rollback")
    assert rollback.from_percent == 5
    assert rollback.figures["calls"] >= 20
