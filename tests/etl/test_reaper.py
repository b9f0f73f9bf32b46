"""The reaper loop of every web and worker process: a job whose worker died is failed with no worker running."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from etl import jobfiles
from etl.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_loop_a_web_process_starts_reaps_a_job_whose_worker_is_gone(
    make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    from etl.reaper import start
    from etl.services import job_claim

    settings.ETL_STALE_SECONDS = 3600  # the heartbeat alone would keep it running for an hour
    make_system("maps", script="print(1)")
    job = start_job("maps")
    lock = jobfiles.WorkerLock(job.pk)
    assert lock.acquire()
    job_claim(job_id=job.pk)
    lock.release(remove=False)  # what the kernel does when the worker holding it dies

    async def run_until_reaped() -> str:
        async with asyncio.TaskGroup() as tg:
            await start(tg)  # the resync_background_services hook: serve, worker and web processes alike
            for _ in range(200):  # bounded wait: the first pass runs at once
                status = await asyncio.to_thread(lambda: Job.objects.get(pk=job.pk).status)
                if status != "running":
                    break
                await asyncio.sleep(0.05)
            for task in asyncio.all_tasks():  # end the loop the hook started
                if task.get_name() == "etl-reaper":
                    task.cancel()
        return status

    assert asyncio.run(run_until_reaped()) == "error"
    assert Job.objects.get(pk=job.pk).error_summary == "worker lost"


def test_every_process_declares_the_reaper_loop() -> None:
    from resync_site.hooks import declared

    assert "etl.reaper.start" in declared("resync_background_services")
