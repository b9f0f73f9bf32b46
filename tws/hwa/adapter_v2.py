"""``OptimizedTWSClientAdapter``: the canonical contract over the HWA REST API v2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tws.exceptions import TWSError
from tws.hwa.contract import (
    EngineInfo,
    Job,
    JobAction,
    JobFilter,
    JobLog,
    JobPage,
    JobStatus,
    LinkState,
    PlanSummary,
    SystemStatus,
    Workstation,
)
from tws.hwa.http import TWSTransport
from tws.hwa.ids import path_segment
from tws.hwa.names import has_wildcard
from tws.hwa.paging import all_pages
from tws.hwa.rows import Row, parse_instant

V2 = "/twsd/api/v2"
# Canonical Job field names in Row order.
JOB_KEYS = (
    "id",
    "name",
    "job_stream",
    "job_stream_id",
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
LINKED_STATES = {"LINKED", "FULLY_LINKED", "DIRECTLY_LINKED", "HOST_LINKED", "EXTENDED_LINKED", "TCP_IP_LINKED"}


def oql_quote(value: str) -> str:
    """Return ``value`` as an OQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def oql_of(filters: JobFilter | None) -> str:
    """Return the OQL expression of ``filters`` (empty when none)."""
    if filters is None:
        return ""
    pairs = (
        ("name", filters.name),
        ("status", filters.status),
        ("workstation", filters.workstation),
        ("jobStreamName", filters.job_stream),
    )
    # A name with HWA's wildcards (`*`, `@`) needs LIKE: `=` compares it literally.
    return " AND ".join(
        f"{field} {'LIKE' if field != 'status' and has_wildcard(value) else '='} {oql_quote(value)}"
        for field, value in pairs
        if value
    )


def row_from_v2(data: dict[str, Any]) -> Row:
    """Return the row of a ``JobInPlanV2`` (its last run gives status, times and return code)."""
    runs = data.get("jobruns") or [{}]
    run = runs[-1]
    composite = data.get("lastRunCompositeStatus") or run.get("compositeStatus") or {}
    times = run.get("timeInfo") or {}
    return (
        str(data["id"]),
        str(data.get("name", "")),
        str(data.get("jobStreamName", "")),
        str(data.get("jobStreamId", "")),
        str(data.get("workstation", "")),
        str(data.get("lastRunCommonStatus") or run.get("commonStatus") or "UNDECIDED"),
        str(composite.get("status", "")),
        parse_instant(data.get("schedTime")),
        parse_instant(times.get("actualStartTime")),
        parse_instant(times.get("actualEndTime")),
        run.get("returnCode"),
        int(run.get("jobNumber") or 1),
        parse_instant(data.get("criticalStart")),
    )


def job_of_row(row: Row) -> Job:
    """Return the canonical job of a row."""
    return Job.model_validate(dict(zip(JOB_KEYS, row, strict=True)))


def job_from_v2(data: dict[str, Any]) -> Job:
    """Return the canonical job of a ``JobInPlanV2``."""
    return job_of_row(row_from_v2(data))


def workstation_from_v2(data: dict[str, Any]) -> Workstation:
    """Return the canonical workstation of a ``WorkstationInPlanV2``."""
    states = set(data.get("activeStates") or [])
    link: LinkState = "linked" if states & LINKED_STATES else "unlinked"
    return Workstation(
        name=str(data.get("name", "")),
        id=str(data.get("id", "")),
        type=str(data.get("type", "UNKNOWN")),
        link_state=link,
        limit=data.get("limit"),
        fence=data.get("fence"),
    )


class OptimizedTWSClientAdapter:
    """Map ``ITWSUnifiedClient`` onto ``/twsd/api/v2`` (engine/info, plan/job, plan/job/count, ...)."""

    api_version = "v2"

    def __init__(self, transport: TWSTransport) -> None:
        self._t = transport
        self._plan = transport.settings.plan_id

    def __repr__(self) -> str:
        return f"OptimizedTWSClientAdapter({self._t!r})"

    async def _json(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._t.request(operation, method, V2 + path, **kwargs)
        return response.json()

    async def get_system_status(self) -> SystemStatus:
        """Return whether HWA answers (errors become ``reachable=False`` with the error code)."""
        try:
            engine = await self.get_engine_info()
        except TWSError as exc:
            return SystemStatus(reachable=False, api_version="v2", detail=exc.code)
        return SystemStatus(reachable=True, api_version="v2", engine_version=engine.version)

    async def get_engine_info(self) -> EngineInfo:
        """Return the engine's identity (``GET /engine/info``)."""
        data = await self._json("engine_info", "GET", "/engine/info")
        return EngineInfo(
            version=str(data.get("fullVersion", "")),
            display_version=str(data.get("displayVersion", "")),
            timezone=str(data.get("timezone", "")),
            locale=str(data.get("locale", "")),
        )

    async def get_jobs(self, *, filters: JobFilter | None = None, limit: int = 100, offset: int = 0) -> JobPage:
        """Return one page of jobs (``GET /plan/job`` with ``oql``, ``limit``, ``offset``)."""
        params: dict[str, Any] = {"limit": limit, "offset": offset, "plan_id": self._plan}
        oql = oql_of(filters)
        if oql:
            params["oql"] = oql
        data = await self._json("get_jobs", "GET", "/plan/job", params=params, headers={"Include-Count": "true"})
        items = [job_from_v2(j) for j in data.get("results") or []]
        return JobPage(items=items, total=int(data.get("count", len(items))), limit=limit, offset=offset)

    async def iter_job_rows(self, *, page_size: int = 5000) -> AsyncIterator[list[Row]]:
        """Yield the rows of every job of the plan, a page at a time (pages fetched a few at once)."""

        async def fetch(index: int) -> tuple[list[Row], int | None]:
            params = {"limit": page_size, "offset": index * page_size, "plan_id": self._plan}
            include = "true" if index == 0 else "false"
            data = await self._json("sync_jobs", "GET", "/plan/job", params=params, headers={"Include-Count": include})
            count = data.get("count")
            return [row_from_v2(j) for j in data.get("results") or []], int(count) if count is not None else None

        async for rows in all_pages(fetch, page_size=page_size):
            yield rows

    async def _job_data(self, job_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._json(
            "get_job", "GET", f"/plan/job/{path_segment(job_id)}", params={"plan_id": self._plan}
        )
        return data

    async def get_job(self, job_id: str) -> Job:
        """Return one job (``GET /plan/job/{id}``)."""
        return job_from_v2(await self._job_data(job_id))

    async def get_job_status(self, job_id: str) -> JobStatus:
        """Return a job's status (``GET /plan/job/{id}``)."""
        job = job_from_v2(await self._job_data(job_id))
        return JobStatus(
            job_id=job.id, status=job.status, internal_status=job.internal_status, return_code=job.return_code
        )

    async def get_workstations(self) -> list[Workstation]:
        """Return every workstation in plan (``GET /plan/workstation``, all pages)."""
        found: list[Workstation] = []
        offset = 0
        while True:
            data = await self._json(
                "get_workstations", "GET", "/plan/workstation", params={"limit": 1000, "offset": offset}
            )
            results = data.get("results") or []
            found.extend(workstation_from_v2(w) for w in results)
            if not data.get("next") or not results:
                return found
            offset += len(results)

    async def get_plan(self) -> PlanSummary:
        """Return job counts by status (``GET /plan/job/count?grouping_filters=status``)."""
        data = await self._json(
            "get_plan", "GET", "/plan/job/count", params={"grouping_filters": "status", "plan_id": self._plan}
        )
        by_status = {str(k): int(v) for k, v in (data.get("groupedCount") or {}).items()}
        return PlanSummary(total=int(data.get("count", sum(by_status.values()))), by_status=by_status)

    async def get_joblog(self, job_id: str) -> JobLog:
        """Return the job's log (``GET /plan/job/joblog?oql=id = '...'``)."""
        response = await self._t.request(
            "get_joblog",
            "GET",
            V2 + "/plan/job/joblog",
            params={"oql": f"id = {oql_quote(job_id)}", "plan_id": self._plan},
        )
        return JobLog(job_id=job_id, text=response.text)

    async def act(self, job_id: str, action: JobAction) -> None:
        """Run ``action`` on a job (rerun goes through the job's last run id)."""
        if action == "rerun":
            data = await self._job_data(job_id)
            run_id = str(((data.get("jobruns") or [{}])[-1]).get("id") or job_id)
            await self._t.request("job_rerun", "PUT", f"{V2}/plan/job/run/{path_segment(run_id)}/action/rerun", json={})
            return
        await self._t.request(f"job_{action}", "PUT", f"{V2}/plan/job/{path_segment(job_id)}/action/{action}", json={})
