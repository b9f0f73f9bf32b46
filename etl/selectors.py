"""Read queries of etl: lists, details, history, stats and the portfolio."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from etl import catalog
from etl.exceptions import JobNotFound, SystemNotFound
from etl.models import FINAL_STATUSES, Credential, Fund, Job, JobStep, LogLine, PathConfig, Position, Status, System


def system_list(*, active_only: bool = False) -> QuerySet[System]:
    """Return systems by code."""
    qs = System.objects.order_by("code")
    return qs.filter(active=True) if active_only else qs


def system_get(*, system_id: int | str) -> System:
    """Return one system by id or code."""
    key = str(system_id)
    found = System.objects.filter(pk=int(key)).first() if key.isdigit() else System.objects.filter(code=key).first()
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
    if date_to:
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


def _rate(counts: dict[str, int]) -> float | None:
    finished = sum(counts.get(s, 0) for s in FINAL_STATUSES)
    return round(100.0 * counts.get(Status.SUCCESS, 0) / finished, 1) if finished else None


def _status_counts(since: dt.datetime) -> dict[str, int]:
    rows = Job.objects.filter(created_at__gte=since).values("status").annotate(n=Count("id")).order_by()
    return {r["status"]: r["n"] for r in rows}


def _durations_by_system(since: dt.datetime) -> dict[str, dict[str, float | None]]:
    steps = JobStep.objects.filter(status=Status.SUCCESS, finished_at__gte=since, duration_seconds__isnull=False)
    means = {
        r["system__code"]: r["mean"]
        for r in steps.values("system__code").annotate(mean=Avg("duration_seconds")).order_by()
    }
    medians: dict[str, float | None] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.code, percentile_cont(0.5) WITHIN GROUP (ORDER BY st.duration_seconds) "
                "FROM etl_jobstep st JOIN etl_system s ON s.id = st.system_id "
                "WHERE st.status = %s AND st.finished_at >= %s AND st.duration_seconds IS NOT NULL GROUP BY s.code",
                [Status.SUCCESS, since],
            )
            medians = {code: float(value) for code, value in cursor.fetchall()}
    else:
        values: dict[str, list[float]] = defaultdict(list)
        for code, seconds in steps.values_list("system__code", "duration_seconds"):
            if seconds is not None:
                values[code].append(seconds)
        medians = {code: statistics.median(v) for code, v in values.items()}
    return {
        code: {"media_segundos": round(means[code], 1), "mediana_segundos": round(medians.get(code) or 0.0, 1)}
        for code in sorted(means)
    }


def stats(*, days: int = 30) -> dict[str, Any]:
    """Return today's executions, success rates over 7 and 30 days, durations per system and executions per day."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    today = dt.datetime.combine(timezone.localdate(now), dt.time.min, tzinfo=tz)
    since_30 = today - dt.timedelta(days=days - 1)
    since_7 = today - dt.timedelta(days=6)
    counts_30 = _status_counts(since_30)
    counts_7 = _status_counts(since_7)
    per_day = (
        Job.objects.filter(created_at__gte=since_30)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(total=Count("id"), success=Count("id", filter=Q(status=Status.SUCCESS)))
        .order_by("day")
    )
    return {
        "execucoes_hoje": Job.objects.filter(created_at__gte=today).count(),
        "em_execucao": counts_30.get(Status.RUNNING, 0),
        "pendentes": counts_30.get(Status.PENDING, 0),
        "taxa_sucesso_7d": _rate(counts_7),
        "taxa_sucesso_30d": _rate(counts_30),
        "duracao_por_sistema": _durations_by_system(since_30),
        "execucoes_por_dia": [
            {"data": r["day"].isoformat(), "total": r["total"], "sucesso": r["success"]} for r in per_day
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
