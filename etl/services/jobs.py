"""Create, claim, beat, cancel and finish jobs: every state change of a job as a whole."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import signal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from core.context import get_correlation_id
from etl import catalog, events
from etl.conf import PIPELINE_MAX_DAYS
from etl.exceptions import InvalidInput, JobNotFound, JobStateConflict, SystemBusy
from etl.metrics import JOB_DURATION, JOBS_TOTAL
from etl.models import ACTIVE_STATUSES, FINAL_STATUSES, Credential, Job, JobStep, Status, System
from etl.selectors import stats_forget
from etl.services.inputs import clean_system_code
from etl.services.workers import HOSTNAME, job_enqueue, worker_side

log = logging.getLogger("resync.etl.jobs")
OPTION_NAMES = ("data_inicial", "data_final")


def _parse_date(field: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or len(value) > 10:
        raise InvalidInput(field, "must be a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date as YYYY-MM-DD") from None


def validate_options(options: dict[str, Any]) -> dict[str, str]:
    """Return the job options normalised (ISO dates), or raise naming the field."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise InvalidInput(unknown[0], f"unknown option; allowed: {list(OPTION_NAMES)}")
    if options.get("data_inicial") in (None, ""):
        raise InvalidInput("data_inicial", "is required")
    start = _parse_date("data_inicial", options["data_inicial"])
    end = start if options.get("data_final") in (None, "") else _parse_date("data_final", options["data_final"])
    today = timezone.localdate()
    if start > today:
        raise InvalidInput("data_inicial", f"{start} is in the future (today is {today})")
    if end > today:
        raise InvalidInput("data_final", f"{end} is in the future (today is {today})")
    if end < start:
        raise InvalidInput("data_final", f"{end} is before data_inicial {start}")
    if (end - start).days >= PIPELINE_MAX_DAYS:
        raise InvalidInput(
            "data_final", f"the range {start}..{end} is longer than the pipeline's limit of {PIPELINE_MAX_DAYS} days"
        )
    return {"data_inicial": start.isoformat(), "data_final": end.isoformat()}


def required_subaccounts(system: System) -> tuple[str, ...]:
    """Return the sub-accounts whose credentials a run of ``system`` needs."""
    profile = catalog.profile_for(system.code)
    if profile.subaccounts == ("",):
        return ("",)
    chosen = system.options.get("subcontas") or list(profile.subaccounts)
    return tuple(a for a in profile.subaccounts if a in chosen)


def _locked_systems(codes: list[str]) -> list[System]:
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise InvalidInput("sistemas", "must be a non-empty list of system codes")
    for code in codes:
        clean_system_code("sistemas", code)
    if len(set(codes)) != len(codes):
        raise InvalidInput("sistemas", "lists a system twice")
    # Row locks on the systems serialise concurrent starts (PostgreSQL); the partial unique
    # index on active steps is the guarantee on every database.
    found = {s.code: s for s in System.objects.select_for_update().filter(code__in=codes).order_by("id")}
    for code in codes:
        system = found.get(code)
        if system is None:
            raise InvalidInput("sistemas", f"unknown system {code!r}")
        if not system.active:
            raise InvalidInput("sistemas", f"system {code!r} is inactive")
    return [found[c] for c in codes]


def _check_credentials(systems: list[System]) -> None:
    for system in systems:
        stored = {
            c.subaccount: c
            for c in Credential.objects.filter(system=system)
            if c.username and c.password_sealed and (c.url or system.base_url)
        }
        missing = [a or "(main)" for a in required_subaccounts(system) if a not in stored]
        if missing:
            raise InvalidInput("credentials", f"system {system.code!r} has no credentials for {', '.join(missing)}")


def _check_idle(systems: list[System]) -> None:
    busy = (
        JobStep.objects.filter(system__in=systems, status__in=ACTIVE_STATUSES)
        .select_related("system")
        .order_by("job_id")
        .first()
    )
    if busy is not None:
        raise SystemBusy(busy.system.code, busy.job_id)


def _create(
    *, kind: str, systems: list[System], options: dict[str, str], acting_user: Any, rerun_of: Job | None
) -> Job:
    _check_idle(systems)
    now = timezone.now()
    job = Job.objects.create(
        kind=kind,
        systems=[s.code for s in systems],
        options=options,
        status=Status.PENDING,
        trace_id=get_correlation_id() or "",
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        created_at=now,
        enqueued_at=now,
        rerun_of=rerun_of,
    )
    try:
        with transaction.atomic():
            JobStep.objects.bulk_create([JobStep(job=job, system=s, order=i) for i, s in enumerate(systems, start=1)])
    except IntegrityError:
        _check_idle(systems)  # a concurrent start won the race: name its job
        raise
    audit.record(
        "job.rerun" if rerun_of else "job.execute",
        actor=acting_user,
        target=f"job:{job.pk}",
        data={
            "kind": kind,
            "systems": job.systems,
            "options": options,
            "rerun_of": rerun_of.pk if rerun_of else None,
            "partial": rerun_of is not None and job.systems != rerun_of.systems,
        },
    )
    events.publish(
        job.pk,
        events.status_message(
            job_id=job.pk, system=",".join(job.systems), status="pending", progress=0, message="na fila"
        ),
    )
    transaction.on_commit(functools.partial(job_enqueue, job_id=job.pk))
    return job


@transaction.atomic
def job_execute(*, systems: list[str], options: dict[str, Any], acting_user: Any, kind: str = Job.Kind.PIPELINE) -> Job:
    """Create a job over ``systems`` (validated, idle, with credentials) and enqueue it on commit."""
    clean = validate_options(options)
    locked = _locked_systems(systems)
    _check_credentials(locked)
    return _create(kind=kind, systems=locked, options=clean, acting_user=acting_user, rerun_of=None)


def _finished_job(job_id: int) -> Job:
    source = Job.objects.filter(pk=job_id).first()
    if source is None:
        raise JobNotFound(f"job {job_id} not found")
    if source.status not in FINAL_STATUSES:
        raise JobStateConflict(f"job {job_id} is {source.status}; only finished jobs can be re-run")
    return source


def _rerun(source: Job, codes: list[str], acting_user: Any) -> Job:
    locked = _locked_systems(codes)
    _check_credentials(locked)
    clean = validate_options(dict(source.options))
    return _create(kind=source.kind, systems=locked, options=clean, acting_user=acting_user, rerun_of=source)


@transaction.atomic
def job_rerun(*, job_id: int, acting_user: Any) -> Job:
    """Create a new job with the options of finished job ``job_id``, linked to it."""
    source = _finished_job(job_id)
    return _rerun(source, list(source.systems), acting_user)


@transaction.atomic
def job_rerun_failed(*, job_id: int, acting_user: Any) -> Job:
    """Create a new job over only the systems of finished job ``job_id`` that failed or were cancelled."""
    source = _finished_job(job_id)
    codes = list(
        source.steps.filter(status__in=(Status.ERROR, Status.CANCELLED))
        .order_by("order")
        .values_list("system__code", flat=True)
    )
    if not codes:
        raise JobStateConflict(f"job {job_id} has no failed or cancelled system to re-run")
    return _rerun(source, codes, acting_user)


@transaction.atomic
def job_claim(*, job_id: int) -> Job | None:
    """Move job ``job_id`` from pending to running on this host and return it (None if it is not pending)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, hostname=HOSTNAME
    )
    if not claimed:
        return None
    job = Job.objects.get(pk=job_id)
    events.publish(
        job_id,
        events.status_message(
            job_id=job_id, system=",".join(job.systems), status="running", progress=0, message="iniciado"
        ),
    )
    return job


def job_heartbeat(*, job_id: int) -> bool:
    """Stamp the heartbeat of running job ``job_id``; return whether someone asked to cancel it."""
    Job.objects.filter(pk=job_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
    return Job.objects.filter(pk=job_id).exclude(cancel_requested_at=None).exists()


@transaction.atomic
def job_finish(
    *, job_id: int, status: str, summary: str, exit_code: int | None = None, acting_user: Any = None
) -> Job | None:
    """Record the end of job ``job_id``: steps not run are cancelled; audit, metrics and ``job_complete``.

    Return the job, or None when it had already finished elsewhere (e.g. reaped).
    """
    now = timezone.now()
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status not in ACTIVE_STATUSES:
        return None
    job.steps.filter(status__in=ACTIVE_STATUSES).update(
        status=Status.CANCELLED, finished_at=now, error_summary="not run: " + (summary or status)[:200]
    )
    job.status, job.exit_code, job.error_summary, job.finished_at = status, exit_code, summary[:4000], now
    job.progress = 100 if status == Status.SUCCESS else job.progress
    job.duration_seconds = (now - job.started_at).total_seconds() if job.started_at else None
    job.save(update_fields=["status", "exit_code", "error_summary", "finished_at", "progress", "duration_seconds"])
    duration = job.duration_seconds
    audit.record(
        "job.finish",
        actor=acting_user,
        target=f"job:{job_id}",
        data={"status": status, "exit_code": exit_code, "duration_seconds": duration},
    )

    def count() -> None:
        JOBS_TOTAL.labels(status=status).inc()
        if duration is not None:
            JOB_DURATION.observe(duration)

    transaction.on_commit(count)
    transaction.on_commit(stats_forget)
    events.publish(job_id, events.job_complete_message(job_id=job_id, status=status, duration_seconds=duration))
    return job


def _signal_local_steps(job_id: int) -> None:
    # The runner polls the request with its heartbeat; when it runs on this host we also
    # signal its process group at once so the stop starts now.
    kill_group = worker_side().kill_group
    for pgid in JobStep.objects.filter(
        job_id=job_id, status=Status.RUNNING, hostname=HOSTNAME, pgid__isnull=False
    ).values_list("pgid", flat=True):
        if pgid is not None:
            kill_group(pgid, signal.SIGTERM)


@transaction.atomic
def job_cancel(*, job_id: int, acting_user: Any) -> Job:
    """Cancel a pending job now, or ask the runner of a running one to stop it (SIGTERM, then SIGKILL)."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    if job.status in FINAL_STATUSES:
        raise JobStateConflict(f"job {job_id} is already {job.status}")
    audit.record("job.cancel", actor=acting_user, target=f"job:{job.pk}", data={"status_before": job.status})
    if job.status == Status.PENDING:
        job_finish(
            job_id=job_id, status=Status.CANCELLED, summary="cancelled before it started", acting_user=acting_user
        )
        job.refresh_from_db()
        return job
    if job.cancel_requested_at is None:
        job.cancel_requested_at = timezone.now()
        job.save(update_fields=["cancel_requested_at"])
    transaction.on_commit(functools.partial(_signal_local_steps, job_id))
    return job
