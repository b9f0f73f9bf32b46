"""Demo data: one plan sync, from a temporary simulator when no TWS_BASE_URL is configured."""

from __future__ import annotations

import os

from tws import conf
from tws.hwa.settings import load_tws_settings
from tws.services import plan_sync


def load() -> str:
    """Sync the plan once so the console has jobs to show; return a summary."""
    if os.environ.get("TWS_BASE_URL"):
        result = plan_sync()
    else:
        from tws.simulator.threaded import ThreadedSimulator

        settings = load_tws_settings()
        # The same seed as the simulator `serve` starts, so the ids match the live plan.
        sim = ThreadedSimulator(
            jobs=int(conf.get("TWS_SIMULATOR_JOBS")),
            seed=int(conf.get("TWS_SIMULATOR_SEED")),
            username=settings.username,
            password=settings.password.get_secret_value(),
        )
        try:
            result = plan_sync(settings=settings.model_copy(update={"base_url": sim.url}))
        finally:
            sim.close()
    if not result.ok:
        return f"tws: plan not synced ({result.detail})"
    return f"tws: {result.jobs_seen} jobs in plan synced, {result.alerts_opened} alerts opened"
