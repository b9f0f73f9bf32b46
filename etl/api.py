"""REST endpoints of etl at the React frontend's paths (DESIGN.md §4.1); thin over services and selectors."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Body, Query, Router, Status
from ninja.decorators import decorate_view

from core.errors import PermissionDeniedError
from etl import conf, selectors, services
from etl.models import Job
from etl.ratelimit import user_rate
from etl.schemas import (
    CountOut,
    ExecuteIn,
    ExecuteOneIn,
    FundFilter,
    FundIn,
    FundOut,
    FundPage,
    FundsActiveIn,
    JobDetailOut,
    JobFilter,
    JobOut,
    JobPage,
    LogLineOut,
    OptionIn,
    PathIn,
    PathOut,
    PortfolioFilter,
    SystemOut,
)
from etl.shapes import job_detail_out, job_out, log_lines_out

router = Router(tags=["etl"])
ERRORS = {401: dict, 403: dict, 404: dict, 409: dict, 413: dict, 422: dict, 429: dict}


_perm_cache: dict[int, tuple[float, frozenset[str]]] = {}


def _permissions(user: Any) -> frozenset[str]:
    # Two permission queries per request are a large share of a list's cost; reuse them briefly.
    if user.is_superuser or not user.is_active:
        return frozenset()
    now = time.monotonic()
    cached = _perm_cache.get(user.pk)
    if cached is None or cached[0] < now:
        cached = (now + float(conf.get_setting("ETL_PERMISSION_CACHE_SECONDS")), frozenset(user.get_all_permissions()))
        if len(_perm_cache) > 10_000:
            _perm_cache.clear()
        _perm_cache[user.pk] = cached
    return cached[1]


def _require(request: HttpRequest, *perms: str) -> None:
    user = request.user
    if user.is_active and user.is_superuser:
        return
    granted = _permissions(user)
    missing = [p for p in perms if p not in granted]
    if missing:
        raise PermissionDeniedError(f"permission required: {', '.join(missing)}")


def _error(status: int, detail: str, code: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _rate_refusal(request: HttpRequest, scope: str) -> HttpResponse | None:
    decision = user_rate(scope, request.user.pk)
    if decision.allowed:
        return None
    return _error(
        429,
        f"too many {scope} requests; retry in {decision.retry_after} s",
        "rate_limited",
        **{"Retry-After": str(decision.retry_after)},
    )


def _body_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 413 before parsing a body larger than ETL_MAX_BODY_BYTES."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        limit = int(conf.get_setting("ETL_MAX_BODY_BYTES"))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _error(
                413, f"request body of {length} bytes exceeds the limit of {limit} bytes", "payload_too_large"
            )
        return view(request, *args, **kwargs)

    return wrapper


def _page(qs: Any, filters: JobFilter) -> dict[str, Any]:
    window = qs[filters.offset : filters.offset + filters.limit]
    return {"items": [job_out(j) for j in window], "count": qs.count()}


# --- systems --------------------------------------------------------------
@router.get("/sistemas", response=list[SystemOut], summary="List systems")
def sistemas(request: HttpRequest) -> Any:
    _require(request, "etl.view_system")
    return list(selectors.system_list())


@router.get("/sistemas/ativos", response=list[SystemOut], summary="List active systems")
def sistemas_ativos(request: HttpRequest) -> Any:
    _require(request, "etl.view_system")
    return list(selectors.system_list(active_only=True))


@router.get("/sistemas/{system_id}", response={200: SystemOut, **ERRORS}, summary="One system (id or code)")
def sistema(request: HttpRequest, system_id: str) -> Any:
    _require(request, "etl.view_system")
    return selectors.system_get(system_id=system_id)


@router.patch("/sistemas/{system_id}/toggle", response={200: SystemOut, **ERRORS}, summary="Activate/deactivate")
def sistema_toggle(request: HttpRequest, system_id: str) -> Any:
    _require(request, "etl.change_system")
    return services.system_toggle(system_id=system_id, acting_user=request.user)


@router.patch("/sistemas/{system_id}/opcao", response={200: SystemOut, **ERRORS}, summary="Set one option")
@decorate_view(_body_limit)
def sistema_opcao(request: HttpRequest, system_id: str, payload: OptionIn) -> Any:
    _require(request, "etl.change_system")
    return services.system_option_update(
        system_id=system_id, option=payload.opcao, value=payload.valor, acting_user=request.user
    )


# --- funds and paths ------------------------------------------------------
@router.get("/sistemas/{system_id}/fundos", response={200: FundPage, **ERRORS}, summary="Funds of a system")
def fundos(request: HttpRequest, system_id: str, filters: Query[FundFilter]) -> Any:
    _require(request, "etl.view_fund")
    qs = selectors.fund_list(system_id=system_id, search=filters.q)
    return {"items": list(qs[filters.offset : filters.offset + filters.limit]), "count": qs.count()}


@router.post("/sistemas/{system_id}/fundos", response={200: FundOut, **ERRORS}, summary="Create or update a fund")
@decorate_view(_body_limit)
def fundo_salvar(request: HttpRequest, system_id: str, payload: FundIn) -> Any:
    _require(request, "etl.add_fund", "etl.change_fund")
    return services.fund_save(
        system_id=system_id, code=payload.code, name=payload.name, active=payload.active, acting_user=request.user
    )


@router.post("/fundos/ativo", response={200: CountOut, **ERRORS}, summary="Activate or deactivate funds in bulk")
@decorate_view(_body_limit)
def fundos_ativo(request: HttpRequest, payload: FundsActiveIn) -> Any:
    _require(request, "etl.change_fund")
    return {"count": services.funds_set_active(fund_ids=payload.ids, active=payload.ativo, acting_user=request.user)}


@router.get("/paths", response=list[PathOut], summary="Report folders (csv, pdf, excel)")
def paths(request: HttpRequest) -> Any:
    _require(request, "etl.view_pathconfig")
    return [{"kind": p.kind, "path": p.path} for p in selectors.path_list()]


@router.put("/paths/{kind}", response={200: PathOut, **ERRORS}, summary="Set a report folder")
@decorate_view(_body_limit)
def path_set(request: HttpRequest, kind: str, payload: PathIn) -> Any:
    _require(request, "etl.change_pathconfig")
    saved = services.path_save(kind=kind, path=payload.path, acting_user=request.user)
    return {"kind": saved.kind, "path": saved.path}


# --- credentials ------------------------------------------------------------
@router.get("/credentials", response=dict[str, Any], summary="Credentials per system (never a password)")
def credentials(request: HttpRequest) -> Any:
    _require(request, "etl.view_credential")
    return selectors.credentials_overview()


@router.post("/credentials", response={200: dict[str, Any], **ERRORS}, summary="Save credentials (stored encrypted)")
@decorate_view(_body_limit)
def credentials_save(request: HttpRequest, payload: Body[dict[str, Any]]) -> Any:
    _require(request, "etl.change_credential")
    refused = _rate_refusal(request, "credentials")
    if refused is not None:
        return refused
    services.credentials_save_many(payload=payload, acting_user=request.user)
    return selectors.credentials_overview()


# --- jobs -------------------------------------------------------------------
@router.post("/execute", response={202: JobOut, **ERRORS}, summary="Run the pipeline over chosen systems")
@decorate_view(_body_limit)
def execute(request: HttpRequest, payload: ExecuteIn) -> Any:
    _require(request, "etl.execute_job")
    refused = _rate_refusal(request, "execute")
    if refused is not None:
        return refused
    job = services.job_execute(
        systems=payload.sistemas,
        options={"data_inicial": payload.data_inicial, "data_final": payload.data_final},
        acting_user=request.user,
    )
    return Status(202, job_out(job))


@router.post("/execute/{system_id}", response={202: JobOut, **ERRORS}, summary="Run one system")
@decorate_view(_body_limit)
def execute_one(request: HttpRequest, system_id: str, payload: ExecuteOneIn) -> Any:
    _require(request, "etl.execute_job")
    refused = _rate_refusal(request, "execute")
    if refused is not None:
        return refused
    system = selectors.system_get(system_id=system_id)
    job = services.job_execute(
        systems=[system.code],
        options={"data_inicial": payload.data_inicial, "data_final": payload.data_final},
        acting_user=request.user,
        kind=Job.Kind.SINGLE,
    )
    return Status(202, job_out(job))


@router.post("/cancel/{int:job_id}", response={202: JobOut, **ERRORS}, summary="Cancel a job")
def cancel(request: HttpRequest, job_id: int) -> Any:
    _require(request, "etl.cancel_job")
    refused = _rate_refusal(request, "cancel")
    if refused is not None:
        return refused
    return Status(202, job_out(services.job_cancel(job_id=job_id, acting_user=request.user)))


@router.get("/jobs", response=JobPage, summary="Jobs, newest first")
def jobs(request: HttpRequest, filters: Query[JobFilter]) -> Any:
    _require(request, "etl.view_job")
    qs = selectors.job_list(
        status=filters.status, system=filters.sistema, date_from=filters.data_de, date_to=filters.data_ate
    )
    return _page(qs, filters)


@router.get("/jobs/history", response=JobPage, summary="Finished jobs, newest first")
def jobs_history(request: HttpRequest, filters: Query[JobFilter]) -> Any:
    _require(request, "etl.view_job")
    qs = selectors.job_list(
        status=filters.status,
        system=filters.sistema,
        date_from=filters.data_de,
        date_to=filters.data_ate,
        finished_only=True,
    )
    return _page(qs, filters)


@router.get("/jobs/{int:job_id}", response={200: JobDetailOut, **ERRORS}, summary="One job with its steps")
def job(request: HttpRequest, job_id: int) -> Any:
    _require(request, "etl.view_job")
    return job_detail_out(selectors.job_get(job_id=job_id))


@router.get("/jobs/{int:job_id}/logs", response={200: list[LogLineOut], **ERRORS}, summary="Log lines after a seq")
def job_logs(request: HttpRequest, job_id: int, after_seq: int = 0, limit: int = 500) -> Any:
    _require(request, "etl.view_logline")
    return log_lines_out(selectors.job_log(job_id=job_id, after_seq=after_seq, limit=max(1, min(limit, 5000))))


@router.post("/jobs/{int:job_id}/rerun", response={202: JobOut, **ERRORS}, summary="Re-run a finished job")
def rerun(request: HttpRequest, job_id: int) -> Any:
    _require(request, "etl.rerun_job")
    refused = _rate_refusal(request, "execute")
    if refused is not None:
        return refused
    return Status(202, job_out(services.job_rerun(job_id=job_id, acting_user=request.user)))


@router.get("/stats", response=dict[str, Any], summary="Execution statistics")
def stats(request: HttpRequest) -> Any:
    _require(request, "etl.view_job")
    return selectors.stats_cached()


@router.get("/portfolio", response=dict[str, Any], summary="Portfolio positions of a date")
def portfolio(request: HttpRequest, filters: Query[PortfolioFilter]) -> Any:
    _require(request, "etl.view_position")
    return selectors.portfolio(date=filters.data, system=filters.sistema, fund=filters.fundo)
