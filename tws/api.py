"""REST endpoints of tws (mounted by resync_site/api.py at /api/tws)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status

from core.permissions import arequire, require
from core.schemas import Out, Page, PageIn, page_of
from tws import selectors
from tws.hwa.contract import EngineInfo, JobLog, JobStatus
from tws.hwa.ids import JOB_ID, JOB_ID_MAX_LENGTH
from tws.selectors import JobSort
from tws.services import alert_acknowledge, job_act

router = Router(tags=["tws"])

# A job id in plan as HWA forms it, percent-encoded in the URL: anything else is a 422 naming hwa_id.
# The routes take the whole rest of the path (a '%2F' arrives decoded as '/') so that the pattern, not
# the URL resolver, refuses it; the detail route comes after the longer ones for the same reason.
HwaId = Annotated[
    str,
    Path(
        pattern=JOB_ID,
        max_length=JOB_ID_MAX_LENGTH,
        description="The job's HWA id, percent-encoded: a UUID (API v2) or WORKSTATION;JOBSTREAM_ID;JOBNAME (v1).",
        examples=["AG_RJ000;0AAAAAAAAAA00004;JOB_000043", "d22b5aa4-e94f-4d20-9b8a-dc51aeb0a94c"],
    ),
]


class PlanJobOut(Out):
    hwa_id: str
    name: str
    job_stream: str
    workstation: str
    status: str
    internal_status: str
    sched_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    return_code: int | None
    run_number: int
    synced_at: datetime


class JobFilters(Schema):
    status: str = ""
    workstation: str = ""
    job_stream: str = ""
    name: str = ""
    sort: JobSort = "name"


class JobPageOut(Page[PlanJobOut]):
    """A window of jobs in plan."""


class WorkstationOut(Out):
    name: str
    hwa_id: str
    type: str
    link_state: str
    synced_at: datetime


class PlanOut(Schema):
    total: int
    by_status: dict[str, int]


class AlertOut(Schema):
    id: int
    kind: str
    target: str
    message: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @staticmethod
    def resolve_acknowledged_by(obj: Any) -> str | None:
        return obj.acknowledged_by.get_username() if obj.acknowledged_by else None


class AlertPageOut(Page[AlertOut]):
    """A window of alerts."""


class AlertFilters(Schema):
    state: Literal["open", "acknowledged", "all"] = "open"
    kind: str = ""


class SyncOut(Schema):
    finished_at: datetime
    outcome: str
    api_version: str
    jobs_seen: int
    jobs_changed: int
    detail: str


class StatusOut(Schema):
    reachable: bool
    api_version: str
    engine_version: str
    detail: str
    circuit_state: str
    last_sync: SyncOut | None


@router.get("/status", response=StatusOut)
async def status(request: HttpRequest) -> dict[str, Any]:
    """Return whether TWS answers, the circuit state and the last sync."""
    from tws.hwa.client import get_tws_client

    await arequire(request, "tws.view_jobinplan")
    client = await get_tws_client()
    system = await client.get_system_status()
    return {
        **system.model_dump(),
        "circuit_state": client.breaker_state,
        "last_sync": await sync_to_async(selectors.last_sync)(),
    }


@router.get("/engine", response=EngineInfo)
async def engine(request: HttpRequest) -> EngineInfo:
    """Return the engine's identity."""
    from tws.hwa.client import get_tws_client

    await arequire(request, "tws.view_jobinplan")
    return await (await get_tws_client()).get_engine_info()


@router.get("/jobs", response=JobPageOut)
def jobs(request: HttpRequest, filters: Query[JobFilters], page: Query[PageIn]) -> dict[str, Any]:
    """List synced jobs in plan (filters: status, workstation, job_stream, name; sort; limit/offset)."""
    require(request, "tws.view_jobinplan")
    return page_of(selectors.job_list(**filters.dict()), page)


@router.get("/jobs/{path:hwa_id}/status", response=JobStatus)
async def job_status(request: HttpRequest, hwa_id: HwaId) -> JobStatus:
    """Return the live status of a job (cached a few seconds)."""
    from tws.hwa.client import get_tws_client

    await arequire(request, "tws.view_jobinplan")
    return await (await get_tws_client()).get_job_status(hwa_id)


@router.get("/jobs/{path:hwa_id}/joblog", response=JobLog)
async def job_joblog(request: HttpRequest, hwa_id: HwaId) -> JobLog:
    """Return the live log of a job."""
    from tws.hwa.client import get_tws_client

    await arequire(request, "tws.view_jobinplan")
    return await (await get_tws_client()).get_joblog(hwa_id)


@router.post("/jobs/{path:hwa_id}/actions/{action}", response={202: dict[str, str]})
async def job_action(
    request: HttpRequest, hwa_id: HwaId, action: Literal["hold", "release", "cancel", "kill", "rerun"]
) -> Status[dict[str, str]]:
    """Ask TWS to hold, release, cancel, kill or rerun a job (audited)."""
    await arequire(request, "tws.act_on_job")
    await job_act(job_hwa_id=hwa_id, action=action, acting_user=request.user)
    return Status(202, {"job": hwa_id, "action": action})


@router.get("/jobs/{path:hwa_id}", response=PlanJobOut)
def job(request: HttpRequest, hwa_id: HwaId) -> Any:
    """Return one synced job."""
    require(request, "tws.view_jobinplan")
    return selectors.job_get(hwa_id=hwa_id)


@router.get("/workstations", response=list[WorkstationOut])
def workstations(request: HttpRequest) -> Any:
    """List the workstations in plan."""
    require(request, "tws.view_workstation")
    return list(selectors.workstation_list())


@router.get("/plan", response=PlanOut)
def plan(request: HttpRequest) -> dict[str, Any]:
    """Return the synced plan's job counts by status."""
    require(request, "tws.view_jobinplan")
    return selectors.plan_counts()


@router.get("/alerts", response=AlertPageOut)
def alerts(request: HttpRequest, filters: Query[AlertFilters], page: Query[PageIn]) -> dict[str, Any]:
    """List alerts (open by default)."""
    require(request, "tws.view_alert")
    return page_of(selectors.alert_list(state=filters.state, kind=filters.kind), page)


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge(request: HttpRequest, alert_id: int) -> Any:
    """Acknowledge an alert."""
    require(request, "tws.acknowledge_alert")
    return alert_acknowledge(alert_id=alert_id, acting_user=request.user)
