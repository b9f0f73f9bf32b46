"""What each step's child process is started with: argv, an allow-list environment, timeout and typical size."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from core.redaction import register_secret
from etl import conf
from etl.models import Credential, Job, JobStep, LogLine, PathConfig, Status, System
from etl.services import job_claim
from etl.services.credentials import credential_password


@dataclass
class StepPlan:
    """Everything needed to start one step, read before the job runs."""

    step_id: int
    system: str
    argv: list[str]
    env: dict[str, str] = field(repr=False)
    timeout: float
    typical_lines: int | None
    positions_file: Path  # what the step hands over for the worker to load (in a folder of its own)


@dataclass
class JobPlan:
    """A claimed job and its steps."""

    job_id: int
    steps: list[StepPlan]
    next_seq: int


def database_url() -> str:
    """Return a DATABASE_URL that lets another process of the tests open this process's database ("" if none).

    Never given to a step: the child hands its positions back to the worker (``ETL_POSITIONS_FILE``).
    """
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


# What a step inherits from the worker's environment: the program search path, locale and time zone,
# Python's own switches. Nothing else: no SECRET_KEY, DATABASE_URL, REDIS_URL, TWS_PASSWORD, tokens or keys.
INHERITED = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "HOME", "TMPDIR", "USER", "LOGNAME", "VIRTUAL_ENV"})
INHERITED_PREFIXES = ("LC_", "PYTHON")


def inherited_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the variables of ``environ`` a step may see (the allow-list)."""
    return {k: v for k, v in environ.items() if k in INHERITED or k.startswith(INHERITED_PREFIXES)}


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


def _child_env(job: Job, system_code: str, handoff: Path) -> dict[str, str]:
    env = inherited_env(os.environ)
    base = str(settings.BASE_DIR)
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=base + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        RESYNC_VAR_DIR=str(settings.VAR_DIR),
        ETL_JOB_ID=str(job.pk),
        ETL_CREDENTIALS=_credentials_env(system_code),
        ETL_PATHS=json.dumps({p.kind: p.path for p in PathConfig.objects.all()}),
        ETL_OPTIONS=json.dumps({system_code: System.objects.get(code=system_code).options}),
        # No database for the child (its URL is the platform's secret): it writes the validated positions here
        # and the worker loads them into the portfolio.
        ETL_POSITIONS_FILE=str(handoff),
    )
    return env


def _typical_lines(system_id: int) -> int | None:
    runs = conf.get_setting("ETL_PROGRESS_HISTORY_RUNS")
    counts = list(
        JobStep.objects.filter(system_id=system_id, status=Status.SUCCESS, line_count__gt=0)
        .order_by("-finished_at")
        .values_list("line_count", flat=True)[:runs]
    )
    return int(statistics.median(counts)) if counts else None


def step_argv(system: System, *, start: str, end: str) -> list[str]:
    """Return the argv of a step of ``system``: its configured command, the dates, then ``--`` and the code."""
    base = conf.command_argv(system.command_name)
    # After "--" the code is a value even if it looked like an option (codes cannot start with "-" either).
    return [*base, "--data-inicial", start, "--data-final", end, "--", system.code]


def _step_plan(job: Job, step: JobStep) -> StepPlan:
    start = job.options["data_inicial"]
    argv = step_argv(step.system, start=start, end=job.options.get("data_final") or start)
    handoff = Path(tempfile.mkdtemp(prefix=f"resync-job{job.pk}-step{step.pk}-")) / "positions.json"
    return StepPlan(
        step_id=step.pk,
        system=step.system.code,
        argv=argv,
        env=_child_env(job, step.system.code, handoff),
        timeout=conf.step_timeout_seconds(step.system.code),
        typical_lines=_typical_lines(step.system_id),
        positions_file=handoff,
    )


def job_plan_claim(job_id: int) -> JobPlan | None:
    """Claim job ``job_id`` and return the plan of its steps (None if it is not pending)."""
    # One transaction: a plan that cannot be built (a credential that does not decrypt) leaves the job pending.
    with transaction.atomic():
        job = job_claim(job_id=job_id)
        if job is None:
            return None
        last = LogLine.objects.filter(job_id=job_id).order_by("-seq").values_list("seq", flat=True).first() or 0
        steps = [_step_plan(job, step) for step in job.steps.select_related("system").order_by("order")]
    return JobPlan(job_id=job_id, steps=steps, next_seq=last + 1)
