"""Read queries of etl: lists, details, history, stats and the portfolio."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from typing import Any

from django.core.cache import caches
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from etl import catalog, conf
from etl.exceptions import JobNotFound, SystemNotFound
from etl.models import (
    FINAL_STATUSES,
    SYSTEM_CODE,
    Credential,
    Fund,
    Job,
    JobStep,
    LogLine,
    PathConfig,
    Position,
    Status,
    System,
)


def system_list(*, active_only: bool = False) -> QuerySet[System]:
    """Return systems by code."""
    qs = System.objects.order_by("code")
    return qs.filter(active=True) if active_only else qs


_SYSTEM_ID = re.compile(r"[0-9]{1,18}")  # inside a bigint


def system_get(*, system_id: int | str, queryset: QuerySet[System] | None = None) -> System:
    """Return one system by id or code (from ``queryset``, e.g. one that locks the row)."""
    qs = System.objects.all() if queryset is None else queryset
    key = str(system_id)
    found = None
    if _SYSTEM_ID.fullmatch(key):
        found = qs.filter(pk=int(key)).first()
    elif SYSTEM_CODE.fullmatch(key):  # anything else names no system: never sent to the database
        found = qs.filter(code=key).first()
    if found is None:
        raise SystemNotFound(f"system {system_id!r} not found")
    return found


def credentials_overview() -> dict[str, Any]:
    """Return credentials shaped per system as the frontend expects, without any password."""

    def public(c: Credential | None) -> dict[str, Any]:
        if c is None:
            return {"url": "", "username": "", "password_set": False, "password_changed_at": None}
        return {
            "url": c.url,
            "username": c.username,
            "password_set": c.password_is_set,
            "password_changed_at": c.password_changed_at,
        }

    stored = {(c.system_id, c.subaccount): c for c in Credential.objects.all()}
    shaped: dict[str, Any] = {}
    for system in System.objects.order_by("code"):
        accounts = catalog.profile_for(system.code).subaccounts
        if accounts == ("",):
            shaped[system.code] = public(stored.get((system.pk, "")))
        else:
            shaped[system.code] = {a: public(stored.get((system.pk, a))) for a in accounts}
    return shaped


def job_list(
    *,
    status: str | None = None,
    system: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    finished_only: bool = False,
) -> QuerySet[Job]:
    """Return jobs newest first, filtered by status, system code and creation date range."""
    qs = Job.objects.select_related("created_by").order_by("-id")
    if finished_only:
        qs = qs.filter(status__in=FINAL_STATUSES)
    if status:
        qs = qs.filter(status=status)
    if system:
        qs = qs.filter(pk__in=JobStep.objects.filter(system__code=system).values("job_id"))
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to and date_to < dt.date.max:  # the last day there is bounds nothing
        qs = qs.filter(created_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def job_get(*, job_id: int) -> Job:
    """Return one job with its steps."""
    job = Job.objects.select_related("created_by").prefetch_related("steps__system").filter(pk=job_id).first()
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    return job


def job_log(*, job_id: int, after_seq: int = 0, limit: int = 500) -> list[LogLine]:
    """Return up to ``limit`` log lines of a job after ``after_seq`` (resume without gap or duplicate)."""
    if not Job.objects.filter(pk=job_id).exists():
        raise JobNotFound(f"job {job_id} not found")
    return list(LogLine.objects.filter(job_id=job_id, seq__gt=after_seq).order_by("seq")[:limit])


def job_log_tail(*, job_id: int, lines: int = 50) -> list[LogLine]:
    """Return the last ``lines`` log lines of a job, oldest first."""
    return list(reversed(LogLine.objects.filter(job_id=job_id).order_by("-seq")[:lines]))


def _rate(success: int, finished: int) -> float | None:
    return round(100.0 * success / finished, 1) if finished else None


def _durations_by_system(since: dt.datetime) -> dict[str, dict[str, float]]:
    steps = JobStep.objects.filter(status=Status.SUCCESS, finished_at__gte=since, duration_seconds__isnull=False)
    if connection.vendor == "postgresql":
        # One pass computes both; percentile_cont keeps the median in the database.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.code, avg(st.duration_seconds), "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY st.duration_seconds) "
                "FROM etl_jobstep st JOIN etl_system s ON s.id = st.system_id "
                "WHERE st.status = %s AND st.finished_at >= %s AND st.duration_seconds IS NOT NULL "
                "GROUP BY s.code ORDER BY s.code",
                [Status.SUCCESS, since],
            )
            rows = [(code, float(mean), float(median)) for code, mean, median in cursor.fetchall()]
    else:
        values: dict[str, list[float]] = defaultdict(list)
        for code, seconds in steps.values_list("system__code", "duration_seconds"):
            if seconds is not None:
                values[code].append(seconds)
        rows = [(code, statistics.fmean(v), statistics.median(v)) for code, v in sorted(values.items())]
    return {
        code: {"media_segundos": round(mean, 1), "mediana_segundos": round(median, 1)} for code, mean, median in rows
    }


STATS_CACHE_KEY = "etl:stats:v1:{day}:{days}"


def stats_cached(*, days: int = 30) -> dict[str, Any]:
    """Return :func:`stats`, computed at most once per ETL_STATS_CACHE_SECONDS (dashboards poll it)."""
    key = STATS_CACHE_KEY.format(day=timezone.localdate().isoformat(), days=days)
    cache = caches["default"]
    found = cache.get(key)
    if found is None:
        found = stats(days=days)
        cache.set(key, found, timeout=conf.get_setting("ETL_STATS_CACHE_SECONDS"))
    return dict(found)


def stats_forget() -> None:
    """Drop the cached stats (a job just finished)."""
    caches["default"].delete(STATS_CACHE_KEY.format(day=timezone.localdate().isoformat(), days=30))


def stats(*, days: int = 30) -> dict[str, Any]:
    """Return today's executions, success rates over 7 and 30 days, durations per system and executions per day."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    since = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time.min, tzinfo=tz)
    # One grouped pass over the window (index on created_at) feeds every figure but the durations.
    cells = (
        Job.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        per_day[cell["day"]][cell["status"]] += cell["n"]

    def window(first: dt.date) -> tuple[int, int, int, int]:
        chosen = [counts for day, counts in per_day.items() if day >= first]
        success = sum(c[Status.SUCCESS] for c in chosen)
        finished = sum(c[s] for c in chosen for s in FINAL_STATUSES)
        return success, finished, sum(c[Status.RUNNING] for c in chosen), sum(c[Status.PENDING] for c in chosen)

    success_30, finished_30, running, pending = window(today - dt.timedelta(days=days - 1))
    success_7, finished_7, _, _ = window(today - dt.timedelta(days=6))
    return {
        "execucoes_hoje": sum(per_day[today].values()) if today in per_day else 0,
        "em_execucao": running,
        "pendentes": pending,
        "taxa_sucesso_7d": _rate(success_7, finished_7),
        "taxa_sucesso_30d": _rate(success_30, finished_30),
        "duracao_por_sistema": _durations_by_system(since),
        "execucoes_por_dia": [
            {"data": day.isoformat(), "total": sum(per_day[day].values()), "sucesso": per_day[day][Status.SUCCESS]}
            for day in sorted(per_day)
        ],
    }


def portfolio(*, date: dt.date | None = None, system: str | None = None, fund: str | None = None) -> dict[str, Any]:
    """Return the positions of ``date`` (default: the latest loaded) with totals per fund."""
    qs = Position.objects.select_related("fund", "system")
    if system:
        qs = qs.filter(system__code=system)
    if fund:
        qs = qs.filter(fund__code=fund)
    day = date or qs.order_by("-date").values_list("date", flat=True).first()
    if day is None:
        return {"data": None, "posicoes": [], "totais_por_fundo": [], "valor_total": "0"}
    rows = qs.filter(date=day).order_by("system__code", "fund__code", "asset")
    totals = (
        rows.values("fund__code", "system__code")
        .annotate(valor=Sum("value"), ativos=Count("id"))
        .order_by("fund__code")
    )
    return {
        "data": day.isoformat(),
        "posicoes": [
            {
                "sistema": p.system.code,
                "fundo": p.fund.code,
                "ativo": p.asset,
                "quantidade": str(p.quantity),
                "preco": str(p.price),
                "valor": str(p.value),
            }
            for p in rows
        ],
        "totais_por_fundo": [
            {"sistema": t["system__code"], "fundo": t["fund__code"], "valor": str(t["valor"]), "ativos": t["ativos"]}
            for t in totals
        ],
        "valor_total": str(rows.aggregate(total=Sum("value"))["total"] or 0),
    }


def fund_list(*, system_id: int | str, search: str = "") -> QuerySet[Fund]:
    """Return the funds of a system, optionally matching ``search`` in code or name."""
    qs = Fund.objects.filter(system=system_get(system_id=system_id)).order_by("code")
    return qs.filter(Q(code__icontains=search) | Q(name__icontains=search)) if search else qs


def path_list() -> list[PathConfig]:
    """Return the configured report folders."""
    return list(PathConfig.objects.order_by("kind"))
