"""``UnifiedTWSClient``: one resilient client per event loop, routing to v2 or legacy by flag."""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async

from cachemig import flags
from core.context import get_correlation_id, get_user_key
from tws import conf
from tws.exceptions import TWSError
from tws.guard import anote_v2_figures
from tws.hwa.adapter_v2 import OptimizedTWSClientAdapter
from tws.hwa.cache import cached
from tws.hwa.contract import (
    ApiVersion,
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
from tws.hwa.http import Resilience, TWSTransport
from tws.hwa.ids import api_of
from tws.hwa.legacy import LegacyTWSClient
from tws.hwa.rows import Row
from tws.hwa.settings import TWSSettings, load_tws_settings

log = logging.getLogger(__name__)
FLAG = "TWS_UNIFIED_V2_ENABLED"
Backend = OptimizedTWSClientAdapter | LegacyTWSClient


class ClientState(enum.StrEnum):
    """Connection state of the unified client."""

    DISCONNECTED = "DISCONNECTED"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    ERROR = "ERROR"


class UnifiedTWSClient:
    """The contract, resilient: retry + breaker + timeouts shared by the v2 adapter and the legacy client."""

    def __init__(self, settings: TWSSettings) -> None:
        self.settings = settings
        self.resilience = Resilience.from_settings(settings)
        self._client: TWSTransport | None = None
        self._lock = asyncio.Lock()  # created inside the running loop (constructed by async code only)
        self.state = ClientState.DISCONNECTED
        self._routes: dict[str, tuple[float, bool]] = {}

    def __repr__(self) -> str:
        return f"UnifiedTWSClient(base_url={self.settings.base_url!r}, state={self.state.value})"

    async def __aenter__(self) -> UnifiedTWSClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    @property
    def breaker_state(self) -> str:
        """Return the circuit state (closed, open, half_open)."""
        return self.resilience.breaker.state

    # --- connection -------------------------------------------------------
    async def connect(self) -> None:
        """Open the HTTP client and check HWA answers; on failure stay disconnected in state ERROR."""
        async with self._lock:
            if self._client is not None:
                return
            self.state = ClientState.CONNECTING
            transport = TWSTransport(self.settings, self.resilience)
            try:
                await transport.open()
                probe: Backend = (
                    OptimizedTWSClientAdapter(transport) if await self._use_v2() else LegacyTWSClient(transport)
                )
                await probe.get_engine_info()
            except BaseException:
                await transport.close()
                self._client = None
                self.state = ClientState.ERROR
                raise
            self._client = transport
            self.state = ClientState.CONNECTED

    async def disconnect(self) -> None:
        """Close the HTTP client (idempotent)."""
        async with self._lock:
            client, self._client = self._client, None
            if client is not None:
                await client.close()
            self.state = ClientState.DISCONNECTED

    async def _transport(self) -> TWSTransport:
        client = self._client
        if client is None:
            await self.connect()
            client = self._client
            if client is None:  # disconnected concurrently right after connecting
                raise TWSError("the TWS client was disconnected while connecting")
        return client

    # --- routing ----------------------------------------------------------
    async def _use_v2(self) -> bool:
        key = get_user_key() or get_correlation_id() or ""
        ttl = conf.flag_cache_seconds()
        now = time.monotonic()
        hit = self._routes.get(key)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        enabled = bool(await sync_to_async(flags.is_enabled, thread_sensitive=False)(FLAG, key or None))
        if ttl > 0:
            if len(self._routes) > 10_000:
                self._routes.clear()
            self._routes[key] = (now, enabled)
        return enabled

    async def backend(self) -> Backend:
        """Return the backend the flag picks for the current request's key."""
        await anote_v2_figures(self.resilience)  # the last calls' outcomes, even failed connects, to the flag guard
        transport = await self._transport()
        return OptimizedTWSClientAdapter(transport) if await self._use_v2() else LegacyTWSClient(transport)

    async def _backend_of(self, job_id: str) -> Backend:
        # Only the API that issued an id can answer for it (docs/tws-compat.md, "Identifiers"): a job
        # synced through v2 keeps its UUID while the flag sends this caller to v1, and the reverse.
        api = api_of(job_id)
        if api is None:
            return await self.backend()
        await anote_v2_figures(self.resilience)
        transport = await self._transport()
        return OptimizedTWSClientAdapter(transport) if api == "v2" else LegacyTWSClient(transport)

    # --- the contract -----------------------------------------------------
    async def get_system_status(self) -> SystemStatus:
        """Return whether HWA answers, through which API."""
        try:
            backend = await self.backend()
        except TWSError as exc:
            version: ApiVersion = "v2" if await self._use_v2() else "v1"
            return SystemStatus(reachable=False, api_version=version, detail=exc.code)
        return await backend.get_system_status()

    async def get_engine_info(self) -> EngineInfo:
        """Return the engine's identity (cached as static)."""
        backend = await self.backend()
        return await cached("static", f"engine:{backend.api_version}", backend.get_engine_info, EngineInfo)

    async def get_jobs(self, *, filters: JobFilter | None = None, limit: int = 100, offset: int = 0) -> JobPage:
        """Return one page of jobs in plan."""
        return await (await self.backend()).get_jobs(filters=filters, limit=limit, offset=offset)

    async def get_job(self, job_id: str) -> Job:
        """Return one job in plan."""
        return await (await self._backend_of(job_id)).get_job(job_id)

    async def get_job_status(self, job_id: str) -> JobStatus:
        """Return a job's status (cached for the status TTL)."""
        backend = await self._backend_of(job_id)

        async def load() -> JobStatus:
            return await backend.get_job_status(job_id)

        return await cached("status", f"job:{job_id}", load, JobStatus)

    async def get_workstations(self) -> list[Workstation]:
        """Return the workstations in plan (cached as static)."""
        backend = await self.backend()
        return await cached(
            "static", f"workstations:{backend.api_version}", backend.get_workstations, list[Workstation]
        )

    async def get_plan(self) -> PlanSummary:
        """Return job counts by status."""
        return await (await self.backend()).get_plan()

    # --- beyond the contract ------------------------------------------------
    async def get_joblog(self, job_id: str) -> JobLog:
        """Return a job's log."""
        return await (await self._backend_of(job_id)).get_joblog(job_id)

    async def act(self, job_id: str, action: JobAction) -> None:
        """Run ``action`` on a job."""
        await (await self._backend_of(job_id)).act(job_id, action)

    async def iter_job_rows(self, *, page_size: int = 5000) -> AsyncIterator[list[Row]]:
        """Yield the rows of every job of the plan, one page at a time."""
        async for page in (await self.backend()).iter_job_rows(page_size=page_size):
            yield page


# --- one instance per event loop ---------------------------------------------
_guard = threading.Lock()
_instances: dict[asyncio.AbstractEventLoop, UnifiedTWSClient] = {}
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _prune() -> None:
    for loop in [loop for loop in _locks if loop.is_closed()]:
        _locks.pop(loop, None)
        _instances.pop(loop, None)


async def get_tws_client(*, settings: TWSSettings | None = None) -> UnifiedTWSClient:
    """Return this loop's client, constructing it once even under concurrent first calls."""
    loop = asyncio.get_running_loop()
    client = _instances.get(loop)
    if client is not None:
        return client
    with _guard:  # loops of other threads may race here; asyncio locks are per loop
        _prune()
        lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        client = _instances.get(loop)
        if client is None:
            effective = settings or await sync_to_async(load_tws_settings, thread_sensitive=True)()
            client = UnifiedTWSClient(effective)
            with _guard:
                _instances[loop] = client
    return client


async def reset_tws_client() -> None:
    """Close this loop's client and forget every instance (tests, settings changes)."""
    with _guard:
        loop = asyncio.get_running_loop()
        client = _instances.pop(loop, None)
        _instances.clear()
        _locks.clear()
    if client is not None:
        await client.disconnect()


def forget_tws_clients() -> None:
    """Forget every instance without closing them (sync callers after a settings change)."""
    with _guard:
        _instances.clear()
        _locks.clear()
