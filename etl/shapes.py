"""The one shape of each thing the outside sees of a run: a log line, a job, a step (REST and websockets alike).

Field names follow DESIGN.md §4.2: ``sistema`` is the system's name as operators read it ("MAPS"),
``sistema_id`` its stored code ("maps"). Timestamps of log lines are one format everywhere: UTC,
ISO 8601, milliseconds, ``Z`` (``2025-01-15T10:30:00.123Z``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from etl.models import Job, JobStep, System


class LineFields(Protocol):
    """What shaping a log line reads: a stored ``LogLine`` or a ``LineRow`` the runner has not re-read."""

    @property
    def job_id(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def level(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def timestamp(self) -> dt.datetime: ...


class LineRow(NamedTuple):
    """A log line as the runner inserts it (no model instance: building one per line costs more than the insert)."""

    job_id: int
    seq: int
    level: str
    system: str
    message: str
    timestamp: dt.datetime


@functools.lru_cache(maxsize=64)  # the lines of one runner chunk share one timestamp
def iso_timestamp(moment: dt.datetime) -> str:
    """Return ``moment`` in UTC as ISO 8601 with milliseconds and ``Z``."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def system_names(codes: Iterable[str]) -> dict[str, str]:
    """Return the name of each stored system among ``codes`` (one query)."""
    wanted = {code for code in codes if code}
    if not wanted:
        return {}
    return dict(System.objects.filter(code__in=wanted).values_list("code", "name"))


def log_line_out(line: LineFields, *, names: Mapping[str, str]) -> dict[str, Any]:
    """Return the payload of one log line (``names``: system code -> name, from :func:`system_names`)."""
    return {
        "job_id": line.job_id,
        "seq": line.seq,
        "level": line.level,
        "sistema": names.get(line.system, line.system),
        "sistema_id": line.system,
        "mensagem": line.message,
        "timestamp": iso_timestamp(line.timestamp),
    }


def log_lines_out(lines: Sequence[LineFields]) -> list[dict[str, Any]]:
    """Return the payloads of ``lines``, in order, reading their systems' names once."""
    names = system_names(line.system for line in lines)
    return [log_line_out(line, names=names) for line in lines]


def job_out(job: Job) -> dict[str, Any]:
    """Return the shape of one job (``created_by`` read: select it with the job)."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "sistemas": job.systems,
        "opcoes": job.options,
        "status": job.status,
        "progresso": job.progress,
        "trace_id": job.trace_id,
        "created_by": job.created_by.get_username() if job.created_by else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duracao_segundos": job.duration_seconds,
        "exit_code": job.exit_code,
        "error_summary": job.error_summary,
        "rerun_of": job.rerun_of_id,
        "cancel_requested": job.cancel_requested_at is not None,
    }


def step_out(step: JobStep) -> dict[str, Any]:
    """Return the shape of one step of a job (its system read: select it with the step)."""
    return {
        "id": step.pk,
        "sistema": step.system.name,
        "sistema_id": step.system.code,
        "ordem": step.order,
        "status": step.status,
        "progresso": step.progress,
        "started_at": step.started_at,
        "finished_at": step.finished_at,
        "duracao_segundos": step.duration_seconds,
        "exit_code": step.exit_code,
        "error_summary": step.error_summary,
        "linhas": step.line_count,
    }


def job_detail_out(job: Job) -> dict[str, Any]:
    """Return the shape of one job with its steps in run order (prefetch ``steps__system`` with the job)."""
    steps = sorted(job.steps.all(), key=lambda step: step.order)
    return {**job_out(job), "steps": [step_out(step) for step in steps]}
