"""Repair jobs whose worker vanished: no job stays pending or running forever."""

from __future__ import annotations

import functools
import logging
import signal
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from etl import conf, jobfiles
from etl.models import Job, JobStep, LogLine, Status
from etl.services.jobs import job_finish
from etl.services.steps import step_lines_append
from etl.services.workers import HOSTNAME, job_enqueue, worker_side

log = logging.getLogger("resync.etl.reaper")
WORKER_LOST = "worker lost"


def _kill_lost_group(step: JobStep) -> None:
    # Only a group on this host with a member born after the step started is the step's (no recycled ids).
    side = worker_side()
    killed = (
        step.pgid is not None
        and step.hostname == HOSTNAME
        and side.group_alive(step.pgid, step.started_at)
        and side.kill_group(step.pgid, signal.SIGKILL)
    )
    log.warning("etl: job %s step %s reaped (%s); process group killed: %s", step.job_id, step.pk, WORKER_LOST, killed)


def _worker_gone_here(job: Job) -> bool:
    return job.hostname == HOSTNAME and jobfiles.worker_gone(job.pk)


def _spools_ingest(job: Job, steps: Iterable[JobStep], *, lost: bool) -> None:
    """Store the lines ``steps`` wrote to their spools on this host that nobody stored, each step's followed by a
    line saying so (always when its worker is ``lost``)."""
    side = worker_side()
    seq = (LogLine.objects.filter(job=job).aggregate(last=Max("seq"))["last"] or 0) + 1
    max_bytes = int(conf.get_setting("ETL_MAX_LINE_BYTES"))
    for step in steps:
        rows, offsets = side.spool_rows(
            job_id=job.pk,
            step_id=step.pk,
            system=step.system.code,
            offsets=step.spool_offsets,
            next_seq=seq,
            max_bytes=max_bytes,
        )
        if not rows and not lost:
            continue
        recovered = f"{len(rows)} line(s) recovered from the step's output spool"
        text = f"{WORKER_LOST}: {recovered}" if lost else f"{recovered} after its worker stopped"
        rows.append((seq + len(rows), timezone.now(), "ERROR", step.system.code, text))
        step_lines_append(
            job_id=job.pk,
            step_id=step.pk,
            rows=rows,
            progress=step.progress,
            line_count=step.line_count + len(rows) - 1,
            status_text=text,
            spool_offsets=offsets,
        )
        seq += len(rows)
    transaction.on_commit(functools.partial(jobfiles.job_files_remove, job.pk))


@transaction.atomic
def job_spools_recover(*, job_id: int) -> bool:
    """Store what the spools of finished job ``job_id`` on this host still hold and delete them, once no worker
    holds its lock; return whether they were handled.

    A job reaped from another host (by its heartbeat), or stopped at shutdown before its last batch, leaves them.
    """
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is not None and job.status == Status.RUNNING:
        return False  # job_reap's to handle, with the loss
    if job is None or not jobfiles.worker_gone(job_id):
        if job is None:
            transaction.on_commit(functools.partial(jobfiles.job_files_remove, job_id))
        return job is None
    _spools_ingest(job, job.steps.filter(hostname=HOSTNAME).select_related("system"), lost=False)
    return True


@transaction.atomic
def job_reap(*, job_id: int, stale_before: datetime) -> bool:
    """Fail running job ``job_id`` as "worker lost" if its worker on this host is gone or its heartbeat is older
    than ``stale_before``."""
    job = Job.objects.select_for_update().filter(pk=job_id, status=Status.RUNNING).first()
    if job is None:
        return False
    if (job.heartbeat_at or job.started_at or job.created_at) >= stale_before and not _worker_gone_here(job):
        return False
    if job.hostname == HOSTNAME:
        _spools_ingest(job, job.steps.filter(status=Status.RUNNING).select_related("system"), lost=True)
    now = timezone.now()
    for step in job.steps.filter(status=Status.RUNNING):
        step.status, step.finished_at, step.error_summary = Status.ERROR, now, WORKER_LOST
        step.save(update_fields=["status", "finished_at", "error_summary"])
        transaction.on_commit(functools.partial(_kill_lost_group, step))
    job_finish(job_id=job_id, status=Status.ERROR, summary=WORKER_LOST)
    return True


@transaction.atomic
def job_requeue(*, job_id: int, forgotten_before: datetime) -> bool:
    """Enqueue pending job ``job_id`` again (on commit) if the queue never took it or nobody picked it up since
    ``forgotten_before``."""
    never_queued = Q(enqueued_at__isnull=True)  # the queue was unreachable when it was committed
    if not Job.objects.filter(
        never_queued | Q(enqueued_at__lt=forgotten_before), pk=job_id, status=Status.PENDING
    ).update(enqueued_at=timezone.now()):
        return False
    transaction.on_commit(functools.partial(job_enqueue, job_id=job_id))
    return True


def jobs_reap(*, stale_seconds: float | None = None, pending_seconds: float | None = None) -> dict[str, int]:
    """Fail running jobs with a stale heartbeat (or none) and re-enqueue pending jobs nobody picked up.

    A pending job the queue refused (``enqueued_at`` empty) is queued on the first run that reaches it.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=stale_seconds or conf.get_setting("ETL_STALE_SECONDS"))
    stale = Job.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, started_at__isnull=True, created_at__lt=stale_before)
    )
    # On this host a dead worker's released lock tells at once; elsewhere its heartbeat goes stale.
    here = Job.objects.filter(status=Status.RUNNING, hostname=HOSTNAME).exclude(pk__in=stale.values("pk"))
    lost_here = [job.pk for job in here.only("pk", "hostname") if _worker_gone_here(job)]
    reaped = sum(
        job_reap(job_id=job_id, stale_before=stale_before)
        for job_id in sorted({*stale.values_list("pk", flat=True), *lost_here})
    )
    forgotten_before = now - timedelta(seconds=pending_seconds or conf.get_setting("ETL_PENDING_REQUEUE_SECONDS"))
    forgotten = Job.objects.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=forgotten_before), status=Status.PENDING
    ).order_by("pk")
    requeued = sum(
        job_requeue(job_id=job_id, forgotten_before=forgotten_before)
        for job_id in list(forgotten.values_list("pk", flat=True))
    )
    # Jobs reaped elsewhere or stopped at shutdown may leave lines in this host's spools.
    for job_id in jobfiles.job_ids_here():
        job_spools_recover(job_id=job_id)
    if reaped or requeued:
        log.warning("etl reaper: %s job(s) failed as %r, %s pending job(s) re-enqueued", reaped, WORKER_LOST, requeued)
    return {"reaped": reaped, "requeued": requeued}
