"""Cancelling: pending jobs at once, running jobs with their whole process tree."""

from __future__ import annotations

from typing import Any

import pytest

from etl.models import Job, LogLine
from etl.services import job_cancel
from tests.etl.conftest import alive_pids, retry_locked, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# The step starts two children that ignore SIGTERM (so only the SIGKILL after the grace
# stops them) and reports every pid, then waits.
TREE = """
import signal, subprocess, sys, time, os
code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
kids = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
print("[INFO] [MAPS] pids", os.getpid(), *[k.pid for k in kids], flush=True)
time.sleep(300)
"""


def _pids(job: Job) -> list[int]:
    line = LogLine.objects.filter(job=job, message__startswith="pids").first()
    return [int(p) for p in line.message.split()[1:]] if line else []


def test_cancelling_a_pending_job_cancels_it_at_once(
    make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    make_system("maps", script="print('never')")
    job = start_job("maps")
    job_cancel(job_id=job.pk, acting_user=operator)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert list(job.steps.values_list("status", flat=True)) == ["cancelled"]


def test_cancelling_a_running_job_leaves_no_process_of_its_tree(
    make_system: Any, start_job: Any, no_enqueue: None, fast_runner: None, run_in_thread: Any, operator: Any
) -> None:
    make_system("maps", script=TREE)
    job = start_job("maps")
    thread = run_in_thread(job.pk)
    pids = wait_for(lambda: _pids(job))
    assert len(alive_pids(pids)) == 3
    retry_locked(job_cancel, job_id=job.pk, acting_user=operator)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "cancelled")
    thread.join(timeout=10)
    # SIGKILLed processes leave asynchronously; one never signalled would still be there after the wait.
    wait_for(lambda: not alive_pids(pids), timeout=5)
    job.refresh_from_db()
    assert job.steps.get().status == "cancelled"
    assert job.finished_at is not None


def test_cancel_requested_from_elsewhere_is_seen_through_the_heartbeat(
    make_system: Any, start_job: Any, no_enqueue: None, fast_runner: None, run_in_thread: Any
) -> None:
    # Another host's API only writes the request; the runner polls it and stops the tree.
    from django.utils import timezone

    make_system("maps", script=TREE)
    job = start_job("maps")
    run_in_thread(job.pk)
    pids = wait_for(lambda: _pids(job))
    retry_locked(Job.objects.filter(pk=job.pk).update, cancel_requested_at=timezone.now())
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "cancelled")
    wait_for(lambda: not alive_pids(pids), timeout=5)


def test_a_finished_job_cannot_be_cancelled(make_system: Any, start_job: Any, no_enqueue: None, operator: Any) -> None:
    from etl.exceptions import JobStateConflict
    from etl.runner.job import run_job

    make_system("maps", script="print('done')")
    job = start_job("maps")
    run_job(job.pk)
    with pytest.raises(JobStateConflict, match="already success"):
        job_cancel(job_id=job.pk, acting_user=operator)
