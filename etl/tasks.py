"""Huey tasks of etl: thin wrappers over the runner and the services."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from core.periodic import every_seconds
from etl import conf
from etl.runner.job import run_job
from etl.services import jobs_reap


@db_task(retries=0)
def run_job_task(job_id: int) -> str:
    """Run ETL job ``job_id`` (a no-op if it is no longer pending)."""
    return run_job(job_id)


def _reaper_interval() -> int:
    return int(conf.get_setting("ETL_REAPER_INTERVAL_SECONDS"))


@every_seconds(_reaper_interval, lock="etl-reap-jobs")
def reap_jobs_task() -> dict[str, int]:
    """Fail running jobs whose worker is gone and re-enqueue forgotten pending jobs."""
    return jobs_reap()
