"""Read queries of the operator console: log pages after a seq, job snapshots and the ETL dashboard card."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.db.models import Avg, Case, Count, IntegerField, Value, When
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from etl import events
from etl.models import FINAL_STATUSES, Job, LogLine, Status
from etl.shapes import job_detail_out, log_lines_out

STATUS_ORDER = (Status.SUCCESS, Status.ERROR, Status.CANCELLED, Status.RUNNING, Status.PENDING)


def log_page_after(
    *, job_id: int, after_seq: int, limit: int = 1000, until_seq: int | None = None
) -> list[dict[str, Any]]:
    """Return up to ``limit`` log payloads of job ``job_id`` with ``after_seq < seq [<= until_seq]``, in order."""
    qs = LogLine.objects.filter(job_id=job_id, seq__gt=after_seq)
    if until_seq is not None:
        qs = qs.filter(seq__lte=until_seq)
    return log_lines_out(list(qs.order_by("seq")[:limit]))


def job_exists(*, job_id: int) -> bool:
    """Return whether job ``job_id`` exists."""
    return Job.objects.filter(pk=job_id).exists()


def job_state_messages(*, job_id: int) -> list[dict[str, Any]]:
    """Return the ``status`` messages describing job ``job_id`` now (job, then steps) and ``job_complete`` if done."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return []
    messages = [
        events.status_message(
            job_id=job.pk,
            system=",".join(job.systems),
            status=job.status,
            progress=job.progress,
            message=job.error_summary[:200],
        )
    ]
    for step in job.steps.select_related("system").order_by("order"):
        messages.append(
            events.status_message(
                job_id=job.pk,
                system=step.system.code,
                status=step.status,
                progress=step.progress,
                message=step.error_summary[:200] or f"{step.line_count} linhas",
            )
        )
    if job.status in FINAL_STATUSES:
        messages.append(
            events.job_complete_message(job_id=job.pk, status=job.status, duration_seconds=job.duration_seconds)
        )
    return messages


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def executions_per_day(*, days: int = 14) -> dict[str, Any]:
    """Return jobs created per day over the last ``days`` days, stacked by status."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    tz = timezone.get_current_timezone()
    rows = (
        Job.objects.filter(created_at__gte=_day_start(first))
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[dt.date, str], int] = {(r["day"], r["status"]): r["n"] for r in rows}
    labels = [first + dt.timedelta(days=i) for i in range(days)]
    return {
        "days": [d.isoformat() for d in labels],
        "series": [{"status": str(s), "values": [counts.get((d, s), 0) for d in labels]} for s in STATUS_ORDER],
    }


def recent_activity(*, limit: int = 8) -> list[dict[str, Any]]:
    """Return the latest jobs with what the dashboard shows and whether they can be re-run."""
    items = []
    for job in Job.objects.select_related("created_by").order_by("-id")[:limit]:
        items.append(
            {
                "job_id": job.pk,
                "systems": ",".join(job.systems),
                "status": job.status,
                "created_at": job.created_at.isoformat(),
                "duration_seconds": round(job.duration_seconds) if job.duration_seconds is not None else None,
                "by": job.created_by.get_username() if job.created_by else "",
                "rerunnable": job.status in FINAL_STATUSES,
                "url": reverse("etl-console:job-live", args=[job.pk]),
            }
        )
    return items


def dashboard_card() -> dict[str, Any]:
    """Return the ETL card of the operations dashboard."""
    today = _day_start(timezone.localdate())
    todays = Job.objects.filter(created_at__gte=today)
    by_status = {r["status"]: r["n"] for r in todays.values("status").annotate(n=Count("id")).order_by()}
    finished = sum(by_status.get(s, 0) for s in FINAL_STATUSES)
    rate = round(100.0 * by_status.get(Status.SUCCESS, 0) / finished, 1) if finished else None
    mean = todays.filter(status=Status.SUCCESS).aggregate(m=Avg("duration_seconds"))["m"]
    running = Job.objects.filter(status=Status.RUNNING).count()
    errors = by_status.get(Status.ERROR, 0)
    jobs = reverse("admin:etl_job_changelist") if _admin_has_jobs() else ""
    runs = reverse("etl-console:runs")
    return {
        "id": "etl",
        "title": _("ETL pipelines"),
        "permission": "etl.view_job",
        "state": "degraded" if errors else "ok",
        "metrics": [
            {
                "key": "runs_today",
                "label": _("Runs today"),
                "value": sum(by_status.values()),
                "link": f"{jobs}?{urlencode({'created_at__gte': str(today)})}" if jobs else "",
            },
            {"key": "success_rate", "label": _("Success rate"), "value": "-" if rate is None else percent(rate)},
            {"key": "mean_duration", "label": _("Mean duration"), "value": duration_text(mean)},
            {"key": "running_now", "label": _("Running now"), "value": running, "link": f"{runs}?status=running"},
        ],
        "chart": {"kind": "stacked_bars", "title": _("Executions per day (14 days)"), **executions_per_day(days=14)},
        "activity": recent_activity(),
        "link": jobs,
    }


def percent(value: float) -> str:
    """Return ``value`` as a percentage in the active language's number format ("55,6%" in pt-BR)."""
    return f"{number_format(value, 1)}%"


def duration_text(seconds: float | None) -> str:
    """Return ``seconds`` as operators read it: "1 min 05 s" ("-" when unknown)."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": secs}
    return _("%(s)d s") % {"s": secs}


def _admin_has_jobs() -> bool:
    from django.contrib import admin

    return admin.site.is_registered(Job)


def log_text_page(*, job_id: int, after_seq: int, limit: int = 5000) -> tuple[str, int]:
    """Return the log lines of job ``job_id`` after ``after_seq`` as text, and the last seq included (0 when none)."""
    rows = list(
        LogLine.objects.filter(job_id=job_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", "timestamp", "level", "system", "message")[:limit]
    )
    text = "".join(
        f"{seq}\t{ts.isoformat().replace('+00:00', 'Z')}\t[{level}] [{system.upper()}] {message}\n"
        for seq, ts, level, system, message in rows
    )
    return text, (rows[-1][0] if rows else 0)


def job_panel(*, job_id: int) -> dict[str, Any] | None:
    """Return the job the live panel of job ``job_id`` starts from, shaped as the API shapes it (None if absent)."""
    job = Job.objects.select_related("created_by").prefetch_related("steps__system").filter(pk=job_id).first()
    return None if job is None else job_detail_out(job)


def runs_index(*, status: str = "", system: str = "") -> Any:
    """Return the jobs of the runs index: running and pending first, then the most recent."""
    qs = Job.objects.select_related("created_by").annotate(
        active=Case(
            When(status__in=(Status.RUNNING, Status.PENDING), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )
    if status:
        qs = qs.filter(status=status)
    if system:
        qs = qs.filter(steps__system__code=system)
    return qs.order_by("active", "-created_at", "-id")
