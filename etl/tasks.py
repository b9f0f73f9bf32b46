"""Huey tasks of etl: thin wrappers over the runner and the reaper."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from etl import conf
from etl.runner.job import run_job
from etl.runner.reaper import jobs_reap


@db_task(retries=0)
def run_job_task(job_id: int) -> str:
    """Run ETL job ``job_id`` (a no-op if it is no longer pending)."""
    return run_job(job_id)


@db_task(retries=0)
def reap_jobs_soon_task() -> dict[str, int]:
    """Run one reaper pass of a sub-minute interval (scheduled by ``reap_jobs_task``)."""
    return jobs_reap()


@db_periodic_task(crontab(minute="*"))
def reap_jobs_task() -> dict[str, int]:
    """Fail running jobs whose worker is gone and re-enqueue forgotten pending jobs.

    Huey's periodic tasks fire once a minute: a shorter ETL_REAPER_INTERVAL_SECONDS spreads the
    rest of this minute's passes as scheduled tasks (they live in the queue, so they survive the
    loss of the worker that scheduled them).
    """
    interval = int(conf.get_setting("ETL_REAPER_INTERVAL_SECONDS"))
    for offset in range(interval, 60, interval):
        reap_jobs_soon_task.schedule(delay=offset)
    return jobs_reap()
