"""The legacy client: the canonical contract over the HWA REST API v1 (``/twsd/plan/...``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from tws.exceptions import TWSError
from tws.hwa.adapter_v2 import job_of_row
from tws.hwa.contract import (
    EngineInfo,
    Job,
    JobAction,
    JobFilter,
    JobLog,
    JobPage,
    JobStatus,
    PlanSummary,
    SystemStatus,
    Workstation,
)
from tws.hwa.http import TWSTransport
from tws.hwa.ids import path_segment
from tws.hwa.paging import all_pages
from tws.hwa.rows import Row, parse_instant

V1 = "/twsd"
MAX_PAGE = 10_000
# v1 internal status words that differ from v2's JobInPlanStatus.
INTERNAL_TO_V2 = {"CANCEL": "CANCL", "CANCELP": "CANCLP", "FAILED": "FAIL", "EXEC_PLUS": "EXEC", "INTRO_PLUS": "INTRO"}


def row_from_v1(data: dict[str, Any]) -> Row:
    """Return the row of a v1 ``JobInPlan`` (internal status spelled as in v2)."""
    status = data.get("status") or {}
    times = data.get("timeInfo") or {}
    stream = data.get("jobStreamInPlan") or {}
    internal = str(status.get("internalStatus", ""))
    critical = data.get("criticalNetworkInfo") or {}
    return (
        str(data.get("id", "")),
        str(data["name"]),
        str(stream.get("name", "")),
        str(data.get("jobStreamId") or stream.get("id") or ""),
        str((data.get("workstationInPlan") or {}).get("name", "")),
        str(status.get("commonStatus") or "UNDECIDED"),
        INTERNAL_TO_V2.get(internal, internal),
        parse_instant(stream.get("startTime")),
        parse_instant(times.get("actualStartTime")),
        parse_instant(times.get("actualEndTime")),
        (data.get("jobDefinition") or {}).get("returnCode"),
        int(data.get("jobNumber") or 1),
        parse_instant(critical.get("criticalStart")) if critical.get("critical") else None,
    )


def job_from_v1(data: dict[str, Any]) -> Job:
    """Return the canonical job of a v1 ``JobInPlan``."""
    return job_of_row(row_from_v1(data))


def filter_body(filters: JobFilter | None) -> dict[str, Any]:
    """Return the ``QueryFilterPlan`` of ``filters``."""
    flt: dict[str, Any] = {}
    if filters is not None:
        if filters.name:
            flt["jobName"] = filters.name
        if filters.workstation:
            flt["workstationName"] = filters.workstation
        if filters.job_stream:
            flt["jobStreamName"] = filters.job_stream
        if filters.status:
            flt["statusList"] = [filters.status]
    return {"filters": {"jobInPlanFilter": flt}}


class LegacyTWSClient:
    """Map ``ITWSUnifiedClient`` onto the v1 API (job/query with ``How-Many``, engine/info, ...)."""

    api_version = "v1"

    def __init__(self, transport: TWSTransport) -> None:
        self._t = transport
        self._plan = path_segment(transport.settings.plan_id)

    def __repr__(self) -> str:
        return f"LegacyTWSClient({self._t!r})"

    def _job_path(self, job_id: str, tail: str = "") -> str:
        return f"{V1}/plan/{self._plan}/job/{path_segment(job_id)}{tail}"

    async def _query(self, filters: JobFilter | None, headers: dict[str, str], operation: str = "get_jobs") -> Any:
        response = await self._t.request(
            operation, "POST", f"{V1}/plan/{self._plan}/job/query", json=filter_body(filters), headers=headers
        )
        return response

    async def get_system_status(self) -> SystemStatus:
        """Return whether HWA answers (errors become ``reachable=False`` with the error code)."""
        try:
            engine = await self.get_engine_info()
        except TWSError as exc:
            return SystemStatus(reachable=False, api_version="v1", detail=exc.code)
        return SystemStatus(reachable=True, api_version="v1", engine_version=engine.version)

    async def get_engine_info(self) -> EngineInfo:
        """Return the engine's identity (``GET /twsd/engine/info``)."""
        data = (await self._t.request("engine_info", "GET", f"{V1}/engine/info")).json()
        return EngineInfo(
            version=str(data.get("fullVersion") or data.get("version") or ""),
            display_version=str(data.get("displayVersion", "")),
            timezone=str(data.get("timezone", "")),
            locale=str(data.get("locale", "")),
        )

    async def get_jobs(self, *, filters: JobFilter | None = None, limit: int = 100, offset: int = 0) -> JobPage:
        """Return one page of jobs (``POST /plan/current/job/query`` with page headers)."""
        size = max(1, min(limit, MAX_PAGE))
        headers = {"Context-ObjectCount": "1"}
        if offset % size == 0:
            headers.update({"Query-PageSize": str(size), "Query-PageNumber": str(offset // size)})
            skip = 0
        else:  # an offset that is not a page boundary: read the first offset+limit and slice
            headers["How-Many"] = str(min(offset + size, MAX_PAGE))
            skip = offset
        response = await self._query(filters, headers)
        rows = response.json()[skip : skip + size]
        items = [job_from_v1(j) for j in rows]
        total = int(response.headers.get("Context-ObjectCount", offset + len(items)))
        return JobPage(items=items, total=total, limit=limit, offset=offset)

    async def iter_job_rows(self, *, page_size: int = 5000) -> AsyncIterator[list[Row]]:
        """Yield the rows of every job of the plan (``Query-PageSize``/``Query-PageNumber`` pages)."""

        async def fetch(index: int) -> tuple[list[Row], int | None]:
            headers = {"Query-PageSize": str(page_size), "Query-PageNumber": str(index)}
            if index == 0:
                headers["Context-ObjectCount"] = "1"
            response = await self._query(None, headers, "sync_jobs")
            total = response.headers.get("Context-ObjectCount")
            return [row_from_v1(j) for j in response.json()], int(total) if total is not None else None

        async for rows in all_pages(fetch, page_size=page_size):
            yield rows

    async def get_job(self, job_id: str) -> Job:
        """Return one job (``GET /plan/current/job/{id}``)."""
        return job_from_v1((await self._t.request("get_job", "GET", self._job_path(job_id))).json())

    async def get_job_status(self, job_id: str) -> JobStatus:
        """Return a job's status (``GET /plan/current/job/{id}``)."""
        job = await self.get_job(job_id)
        return JobStatus(
            job_id=job.id, status=job.status, internal_status=job.internal_status, return_code=job.return_code
        )

    async def get_workstations(self) -> list[Workstation]:
        """Return the workstations that have jobs in plan (v1 has no workstation query in our subset)."""
        rows = (await self._query(None, {"How-Many": "0"}, "get_workstations")).json()
        names = sorted({str((r.get("workstationInPlan") or {}).get("name", "")) for r in rows} - {""})
        return [Workstation(name=n) for n in names]

    async def get_plan(self) -> PlanSummary:
        """Return job counts by status (counted from ``job/query`` with ``How-Many: 0``)."""
        rows = (await self._query(None, {"How-Many": "0"}, "get_plan")).json()
        counts = Counter(str((r.get("status") or {}).get("commonStatus") or "UNDECIDED") for r in rows)
        return PlanSummary(total=len(rows), by_status=dict(counts))

    async def get_joblog(self, job_id: str) -> JobLog:
        """Return the job's log (``GET /plan/current/job/{id}/joblog``)."""
        data = (await self._t.request("get_joblog", "GET", self._job_path(job_id, "/joblog"))).json()
        return JobLog(job_id=job_id, text=str(data.get("log", "")))

    async def act(self, job_id: str, action: JobAction) -> None:
        """Run ``action`` on a job (``PUT /plan/current/job/{id}/action/{action}``, body ``{}``)."""
        await self._t.request(f"job_{action}", "PUT", self._job_path(job_id, f"/action/{action}"), json={})
