"""Compact rows of jobs for the plan sync (tuples keep 150k jobs small) and their change signature."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tws.hwa.contract import Job

# (hwa_id, name, job_stream, job_stream_hwa_id, workstation, status, internal_status,
#  sched_time, start_time, end_time, return_code, run_number, critical_start)
When = datetime | None
Row = tuple[str, str, str, str, str, str, str, When, When, When, int | None, int, When]
JOB_FIELDS = (
    "hwa_id",
    "name",
    "job_stream",
    "job_stream_hwa_id",
    "workstation",
    "status",
    "internal_status",
    "sched_time",
    "start_time",
    "end_time",
    "return_code",
    "run_number",
    "critical_start",
)


def parse_instant(value: object) -> datetime | None:
    """Return the datetime of an ISO 8601 instant (``...Z`` included), or None."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def signature(row: Row) -> str:
    """Return a stable digest of everything stored about a job (changes when any field changes)."""
    parts = [p.isoformat() if isinstance(p, datetime) else "" if p is None else str(p) for p in row[1:]]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def row_of(job: Job) -> Row:
    """Return the row of a canonical job."""
    return (
        job.id,
        job.name,
        job.job_stream,
        job.job_stream_id,
        job.workstation,
        job.status,
        job.internal_status,
        job.sched_time,
        job.start_time,
        job.end_time,
        job.return_code,
        job.run_number,
        job.critical_start,
    )
