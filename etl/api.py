"""REST endpoints of etl at the React frontend's paths (DESIGN.md §4.1); thin over services and selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Query, Router, Status

from core.fields import DbId
from core.permissions import require
from core.schemas import page_of
from etl import selectors, services
from etl.models import Job
from etl.ratelimit import rate_check
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
    LogWindow,
    OptionIn,
    PathIn,
    PathKind,
    PathOut,
    PortfolioFilter,
    SystemOut,
    SystemRef,
)
from etl.shapes import job_detail_out, job_out, log_lines_out

router = Router(tags=["etl"])
ERRORS = {401: dict, 403: dict, 404: dict, 409: dict, 413: dict, 422: dict, 429: dict}


def _page(qs: Any, filters: JobFilter) -> dict[str, Any]:
    page = page_of(qs, filters)
    return {**page, "items": [job_out(j) for j in page["items"]]}


# --- systems --------------------------------------------------------------
@router.get("/sistemas", response=list[SystemOut], summary="List systems")
def sistemas(request: HttpRequest) -> Any:
    require(request, "etl.view_system")
    return list(selectors.system_list())


@router.get("/sistemas/ativos", response=list[SystemOut], summary="List active systems")
def sistemas_ativos(request: HttpRequest) -> Any:
    require(request, "etl.view_system")
    return list(selectors.system_list(active_only=True))


@router.get("/sistemas/{system_id}", response={200: SystemOut, **ERRORS}, summary="One system (id or code)")
def sistema(request: HttpRequest, system_id: SystemRef) -> Any:
    require(request, "etl.view_system")
    return selectors.system_get(system_id=system_id)


@router.patch("/sistemas/{system_id}/toggle", response={200: SystemOut, **ERRORS}, summary="Activate/deactivate")
def sistema_toggle(request: HttpRequest, system_id: SystemRef) -> Any:
    require(request, "etl.change_system")
    return services.system_toggle(system_id=system_id, acting_user=request.user)


@router.patch("/sistemas/{system_id}/opcao", response={200: SystemOut, **ERRORS}, summary="Set one option")
def sistema_opcao(request: HttpRequest, system_id: SystemRef, payload: OptionIn) -> Any:
    require(request, "etl.change_system")
    return services.system_option_update(
        system_id=system_id, option=payload.opcao, value=payload.valor, acting_user=request.user
    )


# --- funds and paths ------------------------------------------------------
@router.get("/sistemas/{system_id}/fundos", response={200: FundPage, **ERRORS}, summary="Funds of a system")
def fundos(request: HttpRequest, system_id: SystemRef, filters: Query[FundFilter]) -> Any:
    require(request, "etl.view_fund")
    return page_of(selectors.fund_list(system_id=system_id, search=filters.q), filters)


@router.post("/sistemas/{system_id}/fundos", response={200: FundOut, **ERRORS}, summary="Create or update a fund")
def fundo_salvar(request: HttpRequest, system_id: SystemRef, payload: FundIn) -> Any:
    require(request, "etl.add_fund", "etl.change_fund")
    return services.fund_save(
        system_id=system_id, code=payload.code, name=payload.name, active=payload.active, acting_user=request.user
    )


@router.post("/fundos/ativo", response={200: CountOut, **ERRORS}, summary="Activate or deactivate funds in bulk")
def fundos_ativo(request: HttpRequest, payload: FundsActiveIn) -> Any:
    require(request, "etl.change_fund")
    return {"count": services.funds_set_active(fund_ids=payload.ids, active=payload.ativo, acting_user=request.user)}


@router.get("/paths", response=list[PathOut], summary="Report folders (csv, pdf, excel)")
def paths(request: HttpRequest) -> Any:
    require(request, "etl.view_pathconfig")
    return [{"kind": p.kind, "path": p.path} for p in selectors.path_list()]


@router.put("/paths/{kind}", response={200: PathOut, **ERRORS}, summary="Set a report folder")
def path_set(request: HttpRequest, kind: PathKind, payload: PathIn) -> Any:
    require(request, "etl.change_pathconfig")
    saved = services.path_save(kind=kind, path=payload.path, acting_user=request.user)
    return {"kind": saved.kind, "path": saved.path}


# --- credentials ------------------------------------------------------------
@router.get("/credentials", response=dict[str, Any], summary="Credentials per system (never a password)")
def credentials(request: HttpRequest) -> Any:
    require(request, "etl.view_credential")
    return selectors.credentials_overview()


@router.post("/credentials", response={200: dict[str, Any], **ERRORS}, summary="Save credentials (stored encrypted)")
def credentials_save(request: HttpRequest, payload: Body[dict[str, Any]]) -> Any:
    require(request, "etl.change_credential")
    rate_check(request.user, "credentials")
    services.credentials_save_many(payload=payload, acting_user=request.user)
    return selectors.credentials_overview()


# --- jobs -------------------------------------------------------------------
@router.post("/execute", response={202: JobOut, **ERRORS}, summary="Run the pipeline over chosen systems")
def execute(request: HttpRequest, payload: ExecuteIn) -> Any:
    require(request, "etl.execute_job")
    rate_check(request.user, "execute")
    job = services.job_execute(
        systems=payload.sistemas,
        options={"data_inicial": payload.data_inicial, "data_final": payload.data_final},
        acting_user=request.user,
    )
    return Status(202, job_out(job))


@router.post("/execute/{system_id}", response={202: JobOut, **ERRORS}, summary="Run one system")
def execute_one(request: HttpRequest, system_id: SystemRef, payload: ExecuteOneIn) -> Any:
    require(request, "etl.execute_job")
    rate_check(request.user, "execute")
    system = selectors.system_get(system_id=system_id)
    job = services.job_execute(
        systems=[system.code],
        options={"data_inicial": payload.data_inicial, "data_final": payload.data_final},
        acting_user=request.user,
        kind=Job.Kind.SINGLE,
    )
    return Status(202, job_out(job))


@router.post("/cancel/{int:job_id}", response={202: JobOut, **ERRORS}, summary="Cancel a job")
def cancel(request: HttpRequest, job_id: DbId) -> Any:
    require(request, "etl.cancel_job")
    rate_check(request.user, "cancel")
    return Status(202, job_out(services.job_cancel(job_id=job_id, acting_user=request.user)))


@router.get("/jobs", response=JobPage, summary="Jobs, newest first")
def jobs(request: HttpRequest, filters: Query[JobFilter]) -> Any:
    require(request, "etl.view_job")
    qs = selectors.job_list(
        status=filters.status, system=filters.sistema, date_from=filters.data_de, date_to=filters.data_ate
    )
    return _page(qs, filters)


@router.get("/jobs/history", response=JobPage, summary="Finished jobs, newest first")
def jobs_history(request: HttpRequest, filters: Query[JobFilter]) -> Any:
    require(request, "etl.view_job")
    qs = selectors.job_list(
        status=filters.status,
        system=filters.sistema,
        date_from=filters.data_de,
        date_to=filters.data_ate,
        finished_only=True,
    )
    return _page(qs, filters)


@router.get("/jobs/{int:job_id}", response={200: JobDetailOut, **ERRORS}, summary="One job with its steps")
def job(request: HttpRequest, job_id: DbId) -> Any:
    require(request, "etl.view_job")
    return job_detail_out(selectors.job_get(job_id=job_id))


@router.get("/jobs/{int:job_id}/logs", response={200: list[LogLineOut], **ERRORS}, summary="Log lines after a seq")
def job_logs(request: HttpRequest, job_id: DbId, window: Query[LogWindow]) -> Any:
    require(request, "etl.view_logline")
    return log_lines_out(
        selectors.job_log(job_id=job_id, after_seq=window.after_seq, limit=max(1, min(window.limit, 5000)))
    )


@router.post("/jobs/{int:job_id}/rerun", response={202: JobOut, **ERRORS}, summary="Re-run a finished job")
def rerun(request: HttpRequest, job_id: DbId) -> Any:
    require(request, "etl.rerun_job")
    rate_check(request.user, "execute")
    return Status(202, job_out(services.job_rerun(job_id=job_id, acting_user=request.user)))


@router.get("/stats", response=dict[str, Any], summary="Execution statistics")
def stats(request: HttpRequest) -> Any:
    require(request, "etl.view_job")
    return selectors.stats_cached()


@router.get("/portfolio", response=dict[str, Any], summary="Portfolio positions of a date")
def portfolio(request: HttpRequest, filters: Query[PortfolioFilter]) -> Any:
    require(request, "etl.view_position")
    return selectors.portfolio(date=filters.data, system=filters.sistema, fund=filters.fundo)
