"""Repair jobs whose worker vanished: no job stays pending or running forever."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
from datetime import datetime, timedelta

import psutil
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from etl import conf
from etl.models import Job, JobStep, Status
from etl.runner import store

log = logging.getLogger("resync.etl.reaper")
WORKER_LOST = "worker lost"


def _group_alive_since(pgid: int, started_at: datetime | None) -> bool:
    # Guard against a recycled id: only a group with a member born after the step started is ours.
    born_after = started_at.timestamp() - 2 if started_at else 0.0
    for proc in psutil.process_iter(["pid", "create_time"]):
        with contextlib.suppress(ProcessLookupError, PermissionError, psutil.Error):
            if os.getpgid(proc.info["pid"]) == pgid and proc.info["create_time"] >= born_after:
                return True
    return False


def kill_step_group(step: JobStep) -> bool:
    """SIGKILL the process group of ``step`` if it runs on this host; return whether it did."""
    if step.pgid is None or step.hostname != store.HOSTNAME or not _group_alive_since(step.pgid, step.started_at):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(step.pgid, signal.SIGKILL)
        return True
    return False


def _reap_one(job_id: int, stale_before: datetime) -> bool:
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, status=Status.RUNNING).first()
        if job is None or (job.heartbeat_at or job.started_at or job.created_at) >= stale_before:
            return False
        now = timezone.now()
        for step in job.steps.filter(status=Status.RUNNING):
            killed = kill_step_group(step)
            step.status, step.finished_at, step.error_summary = Status.ERROR, now, WORKER_LOST
            step.save(update_fields=["status", "finished_at", "error_summary"])
            log.warning(
                "etl: job %s step %s reaped (%s); process group killed: %s", job_id, step.pk, WORKER_LOST, killed
            )
        store.job_finish(job_id, status=Status.ERROR, exit_code=None, summary=WORKER_LOST)
    return True


def jobs_reap(*, stale_seconds: float | None = None, pending_seconds: float | None = None) -> dict[str, int]:
    """Fail running jobs with a stale heartbeat (or none) and re-enqueue pending jobs nobody picked up."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=stale_seconds or conf.get_setting("ETL_STALE_SECONDS"))
    stale = Job.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=stale_before)
    )
    reaped = sum(_reap_one(job_id, stale_before) for job_id in list(stale.values_list("pk", flat=True)))
    forgotten_before = now - timedelta(seconds=pending_seconds or conf.get_setting("ETL_PENDING_REQUEUE_SECONDS"))
    requeued = 0
    for job_id in list(
        Job.objects.filter(status=Status.PENDING, enqueued_at__lt=forgotten_before).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            if Job.objects.filter(pk=job_id, status=Status.PENDING, enqueued_at__lt=forgotten_before).update(
                enqueued_at=now
            ):
                from etl.services.jobs import enqueue_job

                transaction.on_commit(functools.partial(enqueue_job, job_id))
                requeued += 1
    if reaped or requeued:
        log.warning("etl reaper: %s job(s) failed as %r, %s pending job(s) re-enqueued", reaped, WORKER_LOST, requeued)
    return {"reaped": reaped, "requeued": requeued}
