"""The reaper: a worker killed mid-run fails its job and leaves no process of it; forgotten jobs are re-queued."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.conf import settings

from etl.models import Job, LogLine
from etl.services import jobs_reap
from tests.etl.conftest import alive_pids, wait_for

TREE = """
import subprocess, sys, time, os
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
print("[INFO] [MAPS] pids", os.getpid(), kid.pid, flush=True)
time.sleep(300)
"""

WORKER = "import django; django.setup();from etl.runner.job import run_job; import sys; run_job(int(sys.argv[1]))"


def _drill(url: str, make_system: Any, start_job: Any) -> None:
    make_system("maps", script=TREE)
    job = start_job("maps")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESYNC_VAR_DIR": str(settings.VAR_DIR),
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(job.pk)], env=env, cwd=settings.BASE_DIR)
    try:
        line = wait_for(lambda: LogLine.objects.filter(job=job, message__startswith="pids").first(), timeout=30)
        pids = [int(p) for p in line.message.split()[1:]]
        assert len(alive_pids(pids)) == 2
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert Job.objects.get(pk=job.pk).status == "running"  # nobody is left to say otherwise
        time.sleep(1.2)  # let the heartbeat go stale against the short window below
        assert jobs_reap(stale_seconds=1) == {"reaped": 1, "requeued": 0}
        job.refresh_from_db()
        assert job.status == "error"
        assert job.error_summary == "worker lost"
        assert job.steps.get().status == "error"
        wait_for(lambda: not alive_pids(pids), timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_worker_is_reaped(
    shared_database_url: str, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    _drill(shared_database_url, make_system, start_job)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_worker_is_reaped_on_postgresql(
    shared_database_url: str, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    _drill(shared_database_url, make_system, start_job)


@pytest.mark.django_db(transaction=True)
def test_a_running_job_that_never_beat_is_reaped(
    transactional_db: None, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    make_system("maps", script="print(1)")
    job = start_job("maps")
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job.pk).update(status="running", started_at=long_ago, heartbeat_at=None)
    assert jobs_reap()["reaped"] == 1
    assert Job.objects.get(pk=job.pk).status == "error"


@pytest.mark.django_db(transaction=True)
def test_a_forgotten_pending_job_is_enqueued_again(
    transactional_db: None, make_system: Any, start_job: Any, enqueued: list[int]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    make_system("maps", script="print(1)")
    job = start_job("maps")
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now() - timedelta(hours=1))
    assert jobs_reap()["requeued"] == 1
    assert enqueued == [job.pk, job.pk]
    assert jobs_reap()["requeued"] == 0  # stamped again: not re-enqueued on every pass
