"""Read queries of the synced plan, alerts and sync runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from django.db.models import Count, QuerySet
from django.utils import timezone

from tws.exceptions import JobNotFound
from tws.models import Alert, JobInPlan, SyncRun, Workstation

JobSort = Literal[
    "name",
    "-name",
    "status",
    "-status",
    "start_time",
    "-start_time",
    "end_time",
    "-end_time",
    "workstation",
    "-workstation",
    "job_stream",
    "-job_stream",
    "sched_time",
    "-sched_time",
]
JOB_SORTS = frozenset(get_args(JobSort))


def job_list(
    *, status: str = "", workstation: str = "", job_stream: str = "", name: str = "", sort: str = "name"
) -> QuerySet[JobInPlan]:
    """Return jobs in plan matching the filters (name matches by substring), sorted."""
    qs = JobInPlan.objects.all()
    if status:
        qs = qs.filter(status=status.upper())
    if workstation:
        qs = qs.filter(workstation=workstation)
    if job_stream:
        qs = qs.filter(job_stream=job_stream)
    if name:
        qs = qs.filter(name__icontains=name)
    if sort not in JOB_SORTS:
        raise ValueError(f"sort: must be one of {', '.join(sorted(JOB_SORTS))}, not {sort!r}")
    return qs.order_by(sort, "id")


def job_get(*, hwa_id: str) -> JobInPlan:
    """Return one synced job or raise ``JobNotFound``."""
    job = JobInPlan.objects.filter(hwa_id=hwa_id).first()
    if job is None:
        raise JobNotFound(f"job {hwa_id} is not in the synced plan")
    return job


def plan_counts() -> dict[str, Any]:
    """Return the synced plan's job counts by status."""
    rows = JobInPlan.objects.values("status").annotate(n=Count("id")).order_by("status")
    by_status = {r["status"]: r["n"] for r in rows}
    return {"total": sum(by_status.values()), "by_status": by_status}


def workstation_list() -> QuerySet[Workstation]:
    """Return the workstations in plan by name."""
    return Workstation.objects.order_by("name")


def alert_list(*, state: str = "open", kind: str = "") -> QuerySet[Alert]:
    """Return alerts, newest first (state: open, acknowledged or all)."""
    qs = Alert.objects.select_related("acknowledged_by").order_by("-created_at", "-id")
    if state == "open":
        qs = qs.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        qs = qs.filter(acknowledged_at__isnull=False)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def last_sync() -> SyncRun | None:
    """Return the latest sync run."""
    return SyncRun.objects.order_by("-finished_at", "-id").first()


def critical_count() -> int:
    """Return how many jobs of the plan are critical."""
    return JobInPlan.objects.filter(critical_start__isnull=False).count()


# Statuses of a job that has not started yet (its critical start can still be missed).
NOT_STARTED = ("WAITING", "WAITING_FOR_TRIGGER", "READY", "READY_PREV_WS_NONREP", "HELD", "BLOCKED", "UNDECIDED")


@dataclass(frozen=True)
class AtRisk:
    """A critical job that will start after its critical start (``lateness`` > 0) or within the margin of it."""

    job: JobInPlan
    expected_start: datetime
    lateness: timedelta


def critical_at_risk(*, now: datetime | None = None, margin: timedelta = timedelta(minutes=5)) -> list[AtRisk]:
    """Return the critical jobs not started yet whose expected start comes within ``margin`` of their critical start.

    The expected start is the later of now and the scheduled time (held jobs wait at least until now).
    """
    now = now or timezone.now()
    found = []
    waiting = JobInPlan.objects.filter(critical_start__isnull=False, status__in=NOT_STARTED)
    for job in waiting.order_by("critical_start"):
        critical = job.critical_start
        if critical is None:
            continue
        expected = max(now, job.sched_time or now)
        if expected + margin >= critical:
            found.append(AtRisk(job=job, expected_start=expected, lateness=expected - critical))
    return found
