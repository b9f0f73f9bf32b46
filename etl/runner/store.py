"""Database side of the runner: sync functions run on the runner's one database thread."""

from __future__ import annotations

import functools
import json
import os
import socket
import statistics
import sys
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

import audit
from core.redaction import register_secret
from etl import conf, events
from etl.metrics import JOB_DURATION, JOBS_TOTAL, LOG_LINES_TOTAL
from etl.models import Credential, Job, JobStep, LogLine, PathConfig, Status, System
from etl.selectors import stats_forget
from etl.services.credentials import credential_password

HOSTNAME = socket.gethostname()


@dataclass
class StepPlan:
    """Everything needed to start one step, read before the job runs."""

    step_id: int
    system: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    timeout: float
    typical_lines: int | None


@dataclass
class JobPlan:
    """A claimed job and its steps."""

    job_id: int
    steps: list[StepPlan]
    next_seq: int


def _database_url() -> str:
    db = connection.settings_dict
    name = str(db["NAME"])
    if connection.vendor == "sqlite":
        return "" if "memory" in name else f"sqlite:///{os.path.abspath(name)}"
    if connection.vendor == "postgresql":
        auth = db.get("USER") or ""
        if db.get("PASSWORD"):
            auth += f":{db['PASSWORD']}"
        return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
    return ""


def _credentials_env(system_code: str) -> str:
    # Shaped {system: {subaccount or "_": {url, username, password}}}; read by etl.pipeline.
    found: dict[str, dict[str, str]] = {}
    for credential in Credential.objects.select_related("system").filter(system__code=system_code):
        password = credential_password(credential) if credential.password_sealed else ""
        register_secret(password)  # revealed to the child: mask it wherever it might be echoed
        found[credential.subaccount or "_"] = {
            "url": credential.url or credential.system.base_url,
            "username": credential.username,
            "password": password,
        }
    return json.dumps({system_code: found})


def _child_env(job: Job, system_code: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AUDIT_KEYRING",)}
    base = str(settings.BASE_DIR)
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=base + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "resync_site.settings"),
        RESYNC_VAR_DIR=str(settings.VAR_DIR),
        ETL_JOB_ID=str(job.pk),
        ETL_CREDENTIALS=_credentials_env(system_code),
        ETL_PATHS=json.dumps({p.kind: p.path for p in PathConfig.objects.all()}),
        ETL_OPTIONS=json.dumps({system_code: System.objects.get(code=system_code).options}),
    )
    url = _database_url()
    if url:
        env["DATABASE_URL"] = url
    return env


def _typical_lines(system_id: int) -> int | None:
    runs = conf.get_setting("ETL_PROGRESS_HISTORY_RUNS")
    counts = list(
        JobStep.objects.filter(system_id=system_id, status=Status.SUCCESS, line_count__gt=0)
        .order_by("-finished_at")
        .values_list("line_count", flat=True)[:runs]
    )
    return int(statistics.median(counts)) if counts else None


def job_claim(job_id: int) -> JobPlan | None:
    """Move job ``job_id`` from pending to running on this host and return its plan (None if not pending)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Job.objects.filter(pk=job_id, status=Status.PENDING).update(
            status=Status.RUNNING, started_at=now, heartbeat_at=now, hostname=HOSTNAME
        )
        if not claimed:
            return None
        job = Job.objects.get(pk=job_id)
        last = LogLine.objects.filter(job_id=job_id).order_by("-seq").values_list("seq", flat=True).first() or 0
        plans = []
        for step in job.steps.select_related("system").order_by("order"):
            bundled = not step.system.command
            argv = list(step.system.command) or [sys.executable, "-m", "etl.pipeline"]
            argv += ["--sistemas", step.system.code, "--data-inicial", job.options["data_inicial"]]
            argv += ["--data-final", job.options.get("data_final") or job.options["data_inicial"]]
            env = _child_env(job, step.system.code)
            if bundled:
                # The bundled pipeline only needs etl's models: a light Django set-up (resync_site.settings,
                # RESYNC_PROCESS_ROLE) and no connection pool for a process that lives a few seconds.
                env.update(RESYNC_PROCESS_ROLE="pipeline", DATABASE_POOL="false")
            plans.append(
                StepPlan(
                    step_id=step.pk,
                    system=step.system.code,
                    argv=argv,
                    env=env,
                    timeout=conf.step_timeout_seconds(step.system.code),
                    typical_lines=_typical_lines(step.system_id),
                )
            )
        events.publish(
            job_id,
            events.status_message(
                job_id=job_id, system=",".join(job.systems), status="running", progress=0, message="iniciado"
            ),
        )
    return JobPlan(job_id=job_id, steps=plans, next_seq=last + 1)


def step_start(step_id: int, *, pid: int, pgid: int) -> None:
    """Record that step ``step_id`` runs as process group ``pgid`` on this host."""
    now = timezone.now()
    with transaction.atomic():
        JobStep.objects.filter(pk=step_id).update(
            status=Status.RUNNING, started_at=now, pid=pid, pgid=pgid, hostname=HOSTNAME
        )
        step = JobStep.objects.select_related("system").get(pk=step_id)
        events.publish(
            step.job_id,
            events.status_message(
                job_id=step.job_id, system=step.system.code, status="running", progress=0, message="iniciando"
            ),
        )


Row = tuple[int, datetime, str, str, str]
INSERT_LINES = (
    f"INSERT INTO {LogLine._meta.db_table} "  # noqa: S608 — the table name is the model's, never input
    "(job_id, step_id, seq, timestamp, level, system, message) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)  # seq, timestamp, level, system, message


def lines_append(
    job_id: int, step_id: int, rows: list[Row], *, progress: int, line_count: int, status_text: str
) -> None:
    """Insert a batch of log lines and the step's progress; publish them after commit."""
    adapt = functools.lru_cache(maxsize=64)(connection.ops.adapt_datetimefield_value)  # lines share chunk stamps
    with transaction.atomic(), connection.cursor() as cursor:
        # executemany, not bulk_create: building a model per line costs more than the insert itself.
        cursor.executemany(
            INSERT_LINES,
            [(job_id, step_id, seq, adapt(ts), level, system, message) for seq, ts, level, system, message in rows],
        )
        JobStep.objects.filter(pk=step_id).update(progress=progress, line_count=line_count)
        messages = [
            events.log_message(job_id=job_id, seq=seq, level=level, system=system, message=message, timestamp=ts)
            for seq, ts, level, system, message in rows
        ]
        system = rows[-1][3] if rows else ""
        messages.append(
            events.status_message(
                job_id=job_id, system=system, status="running", progress=progress, message=status_text
            )
        )
        events.publish_many(job_id, messages)
        count = len(rows)
        transaction.on_commit(lambda: LOG_LINES_TOTAL.inc(count))


def heartbeat(job_id: int) -> bool:
    """Stamp the job's heartbeat; return whether someone asked to cancel it."""
    now = timezone.now()
    Job.objects.filter(pk=job_id, status=Status.RUNNING).update(heartbeat_at=now)
    return Job.objects.filter(pk=job_id).exclude(cancel_requested_at=None).exists()


def step_finish(
    step_id: int, *, status: str, exit_code: int | None, summary: str, progress: int, line_count: int
) -> None:
    """Record the end of a step."""
    now = timezone.now()
    with transaction.atomic():
        step = JobStep.objects.select_related("system").get(pk=step_id)
        step.status, step.exit_code, step.error_summary = status, exit_code, summary[:4000]
        step.finished_at, step.line_count = now, line_count
        step.progress = 100 if status == Status.SUCCESS else progress
        step.duration_seconds = (now - step.started_at).total_seconds() if step.started_at else None
        step.save()
        events.publish(
            step.job_id,
            events.status_message(
                job_id=step.job_id,
                system=step.system.code,
                status=status,
                progress=step.progress,
                message=summary[:200],
            ),
        )


def job_finish(job_id: int, *, status: str, exit_code: int | None, summary: str) -> None:
    """Record the end of a job: steps not run are cancelled; audit, metrics and ``job_complete``."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status not in (Status.RUNNING, Status.PENDING):
            return  # already finished elsewhere (e.g. reaped)
        job.steps.filter(status__in=(Status.PENDING, Status.RUNNING)).update(
            status=Status.CANCELLED, finished_at=now, error_summary="not run: " + (summary or status)[:200]
        )
        job.status, job.exit_code, job.error_summary, job.finished_at = status, exit_code, summary[:4000], now
        job.progress = 100 if status == Status.SUCCESS else job.progress
        job.duration_seconds = (now - job.started_at).total_seconds() if job.started_at else None
        job.save()
        audit.record(
            "job.finish",
            actor=None,
            target=f"job:{job_id}",
            data={"status": status, "exit_code": exit_code, "duration_seconds": job.duration_seconds},
        )
        duration = job.duration_seconds

        def count() -> None:
            JOBS_TOTAL.labels(status=status).inc()
            if duration is not None:
                JOB_DURATION.observe(duration)

        transaction.on_commit(count)
        transaction.on_commit(stats_forget)
        events.publish(job_id, events.job_complete_message(job_id=job_id, status=status, duration_seconds=duration))


def close_connection() -> None:
    """Close this thread's database connection."""
    connection.close()
