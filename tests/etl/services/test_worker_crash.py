"""A worker killed with -9 mid-run: known lost at once, its step's whole tree ends, and no line it printed is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from etl import jobfiles
from etl.models import Job, LogLine
from etl.services import jobs_reap
from tests.etl.conftest import alive_pids, wait_for

# The step records what it printed (and its tree's pids) once it has printed it, then keeps working.
SAVER = """
import json, os, subprocess, sys, time
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
printed = []
for i in range(205):
    if i == 200:
        time.sleep(0.5)  # the runner has stored the full batches by now: these last lines stay in its batch
    line = f"[INFO] [MAPS] saved /reports/maps/positions-{i:03}.csv"
    print(line, flush=True)
    printed.append(f"saved /reports/maps/positions-{i:03}.csv")
record = os.path.join(os.environ["RESYNC_VAR_DIR"], "printed.json")
with open(record + ".tmp", "w") as out:
    json.dump({"pids": [os.getpid(), kid.pid], "messages": printed}, out)
os.replace(record + ".tmp", record)
time.sleep(300)
"""

# Batches of 64 lines flushed only by count: most lines are stored by the runner, the last ones only read.
WORKER = (
    "import django, sys; django.setup();"
    "from django.conf import settings;"
    "settings.ETL_LOG_BATCH_LINES = 64; settings.ETL_LOG_BATCH_SECONDS = 3600;"
    "from etl.runner.job import run_job; run_job(int(sys.argv[1]))"
)


def _crash(
    url: str, make_system: Any, start_job: Any, settings_fixture: Any, *, reaped_elsewhere: bool = False
) -> None:
    make_system("maps", script=SAVER)
    job = start_job("maps")
    record = Path(settings.VAR_DIR) / "printed.json"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RESYNC_VAR_DIR": str(settings.VAR_DIR),
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
        "ETL_COMMANDS": json.dumps(settings.ETL_COMMANDS),
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(job.pk)], env=env, cwd=settings.BASE_DIR)
    try:
        wait_for(record.exists, timeout=30)
        worker.send_signal(signal.SIGKILL)  # right after the step printed its last line
        worker.wait(timeout=10)
        printed = json.loads(record.read_text())
        step = wait_for(lambda: job.steps.filter(pgid__isnull=False).first(), timeout=5)
        tree = [step.pgid, *printed["pids"]]
        # No reaper has run: the step's guard saw its worker die and ended the whole group by itself.
        wait_for(lambda: not alive_pids(tree), timeout=10)
        assert Job.objects.get(pk=job.pk).status == "running"
        # Known lost at once: the kernel released the worker's lock, whatever the heartbeat says.
        assert jobfiles.worker_gone(job.pk)
        settings_fixture.ETL_STALE_SECONDS = 3600
        if reaped_elsewhere:  # a reaper on another host, by the heartbeat: it cannot read this host's spools
            Job.objects.filter(pk=job.pk).update(
                hostname="another-host", heartbeat_at=timezone.now() - timedelta(hours=2)
            )
        assert jobs_reap() == {"reaped": 1, "requeued": 0}  # a pass here also ingests what the spools hold
        job.refresh_from_db()
        assert (job.status, job.error_summary) == ("error", "worker lost")
        lines = list(LogLine.objects.filter(job=job).order_by("seq"))
        assert [line.seq for line in lines] == list(range(1, len(printed["messages"]) + 2))
        assert [line.message for line in lines[:-1]] == printed["messages"]
        assert lines[-1].level == "ERROR"
        expected = "line(s) recovered from the step's output spool after its worker stopped"
        assert (
            lines[-1].message.endswith(expected) if reaped_elsewhere else lines[-1].message.startswith("worker lost: ")
        )
        assert not jobfiles.job_dir(job.pk).exists()
        assert jobs_reap() == {"reaped": 0, "requeued": 0}
        assert LogLine.objects.filter(job=job).count() == len(lines)  # nothing stored twice
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_worker_loses_no_line_and_no_process_survives(
    shared_database_url: str, make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    _crash(shared_database_url, make_system, start_job, settings)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_lines_of_a_worker_reaped_from_another_host_are_ingested_on_its_own(
    shared_database_url: str, make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    _crash(shared_database_url, make_system, start_job, settings, reaped_elsewhere=True)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_worker_loses_no_line_and_no_process_survives_on_postgresql(
    shared_database_url: str, make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    _crash(shared_database_url, make_system, start_job, settings)


@pytest.mark.django_db(transaction=True)
def test_a_live_worker_lock_keeps_a_fresh_job_running(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    from etl.services import job_claim

    make_system("maps", script="print(1)")
    job = start_job("maps")
    lock = jobfiles.WorkerLock(job.pk)
    assert lock.acquire()
    try:
        job_claim(job_id=job.pk)
        assert not jobfiles.worker_gone(job.pk)
        assert not jobfiles.WorkerLock(job.pk).acquire()  # a duplicate task on this host stays out
        assert jobs_reap()["reaped"] == 0
        assert Job.objects.get(pk=job.pk).status == "running"
    finally:
        lock.release(remove=True)
