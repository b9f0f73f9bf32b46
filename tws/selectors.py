"""Read queries of the synced plan, alerts and sync runs."""

from __future__ import annotations

from typing import Any, Literal, get_args

from django.db.models import Count, QuerySet

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
