"""The canonical TWS contract (DESIGN.md §4.4): typed answers, whatever API version serves them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

ApiVersion = Literal["v1", "v2"]
LinkState = Literal["linked", "unlinked", "unknown"]
JobAction = Literal["hold", "release", "kill", "cancel", "rerun"]
# CommonStatusV2 values; v1 NodeStatus.commonStatus uses the same words.
COMMON_STATUSES = (
    "WAITING",
    "WAITING_FOR_TRIGGER",
    "READY",
    "READY_PREV_WS_NONREP",
    "COMPLETED",
    "SUPPRESS_BY_COND",
    "INTERRUPTED",
    "DUMMY_COMPLETED",
    "RUNNING",
    "SUCCESSFUL",
    "ERROR",
    "CANCELED",
    "CANCEL_PENDING",
    "HELD",
    "UNDECIDED",
    "BLOCKED",
    "SUPPRESS",
)


class Canonical(BaseModel):
    """Base of canonical answers: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EngineInfo(Canonical):
    """Which HWA engine answers."""

    version: str
    display_version: str = ""
    timezone: str = ""
    locale: str = ""


class JobStatus(Canonical):
    """Status of a job's last run: common (CommonStatusV2) and internal (JobInPlanStatus) words."""

    job_id: str
    status: str
    internal_status: str
    return_code: int | None = None


class Job(Canonical):
    """A job in the current plan; ``id`` and ``job_stream_id`` are the serving API's own (tws/hwa/ids.py)."""

    id: str
    name: str
    job_stream: str
    job_stream_id: str
    workstation: str
    status: str
    internal_status: str
    sched_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    return_code: int | None = None
    run_number: int = 1
    critical_start: datetime | None = None  # set on critical jobs: the latest start that keeps their deadline


class JobPage(Canonical):
    """One page of jobs and the total matching the filter."""

    items: list[Job]
    total: int
    limit: int
    offset: int


class JobFilter(Canonical):
    """Filters of :meth:`ITWSUnifiedClient.get_jobs` (names take HWA's wildcards ``*`` and ``@``; empty means any)."""

    name: str = ""
    status: str = ""
    workstation: str = ""
    job_stream: str = ""


class Workstation(Canonical):
    """A workstation in plan."""

    name: str
    id: str = ""
    type: str = "UNKNOWN"
    link_state: LinkState = "unknown"
    limit: int | None = None  # job limit: how many jobs may run at once (None: not known through this API)
    fence: int | None = None  # jobs with a priority at or below the fence do not start


class PlanSummary(Canonical):
    """Counts of the current plan's jobs by common status."""

    total: int
    by_status: dict[str, int] = Field(default_factory=dict)


class SystemStatus(Canonical):
    """Whether HWA answers, through which API, and the engine's version."""

    reachable: bool
    api_version: ApiVersion
    engine_version: str = ""
    detail: str = ""


class JobLog(Canonical):
    """The standard list of a job's last run."""

    job_id: str
    text: str


@runtime_checkable
class ITWSUnifiedClient(Protocol):
    """What every TWS client offers (the v2 adapter, the legacy v1 client, the unified client)."""

    async def get_system_status(self) -> SystemStatus:
        """Return whether HWA answers and its version."""
        ...

    async def get_engine_info(self) -> EngineInfo:
        """Return the engine's identity."""
        ...

    async def get_jobs(self, *, filters: JobFilter | None = None, limit: int = 100, offset: int = 0) -> JobPage:
        """Return one page of jobs in plan matching ``filters``."""
        ...

    async def get_job(self, job_id: str) -> Job:
        """Return one job in plan."""
        ...

    async def get_job_status(self, job_id: str) -> JobStatus:
        """Return the status of one job's last run."""
        ...

    async def get_workstations(self) -> list[Workstation]:
        """Return the workstations in plan."""
        ...

    async def get_plan(self) -> PlanSummary:
        """Return the current plan's job counts by status."""
        ...
