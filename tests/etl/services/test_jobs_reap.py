"""The reaper: a worker killed mid-run fails its job and leaves no process of it; forgotten jobs are re-queued."""

from __future__ import annotations

import json
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
        "ETL_COMMANDS": json.dumps(settings.ETL_COMMANDS),  # the worker process runs the configured script
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


def _lost_step(make_system: Any, start_job: Any, *, step_started_at: Any) -> tuple[Job, subprocess.Popen[bytes]]:
    """Return a running job, stale since an hour, whose one step runs as a real process group on this host."""
    from datetime import timedelta

    from django.utils import timezone

    from etl.services import job_claim, step_start

    make_system("maps", script="print(1)")
    job = start_job("maps")
    group = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], process_group=0)
    job_claim(job_id=job.pk)
    step_start(step_id=job.steps.get().pk, pid=group.pid, pgid=group.pid)
    job.steps.update(started_at=step_started_at)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    return job, group


@pytest.mark.django_db(transaction=True)
def test_the_process_group_of_a_lost_step_on_this_host_is_killed(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    from django.utils import timezone

    job, group = _lost_step(make_system, start_job, step_started_at=timezone.now())
    try:
        assert jobs_reap() == {"reaped": 1, "requeued": 0}
        assert group.wait(timeout=10) == -signal.SIGKILL
        job.refresh_from_db()
        assert (job.status, job.error_summary) == ("error", "worker lost")
        assert list(job.steps.values_list("status", "error_summary")) == [("error", "worker lost")]
    finally:
        group.kill()
        group.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_group_id_recycled_by_an_older_process_is_left_alone(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    # The recorded step started after every member of the live group was born: the id is not the step's.
    from datetime import timedelta

    from django.utils import timezone

    job, group = _lost_step(make_system, start_job, step_started_at=timezone.now() + timedelta(minutes=5))
    try:
        assert jobs_reap()["reaped"] == 1
        assert Job.objects.get(pk=job.pk).status == "error"
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGKILL would have ended it well within this
            group.wait(timeout=1)
    finally:
        group.kill()
        group.wait(timeout=10)
