"""The HWA simulator: an aiohttp server with basic auth, fault injection and a request log."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tws.simulator import routes_v1, routes_v2
from tws.simulator.faults import Faults
from tws.simulator.plan import SimJob, SimPlan
from tws.simulator.responses import SERVER_KEY, error_response, json_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class LoggedRequest:
    """One request as the simulator saw it on arrival (``outcome``: status sent, hang, reset or pending).

    ``path`` is decoded; ``raw_path`` is the path exactly as sent, percent-escapes and all.
    """

    at: float
    method: str
    path: str
    outcome: str
    retry_after: int | None = None
    raw_path: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data."""
        return {
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "outcome": self.outcome,
            "retry_after": self.retry_after,
            "raw_path": self.raw_path,
        }


class SimulatorServer:
    """Serve the v2 and v1 APIs of one simulated plan."""

    def __init__(self, *, plan: SimPlan, username: str, password: str, faults: Faults | None = None) -> None:
        self.plan = plan
        self.faults = faults or Faults()
        self._credentials = (username, password)
        self.requests: deque[LoggedRequest] = deque(maxlen=200_000)
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._rng = random.Random(plan.seed + 1)
        self._jobs_of_stream: list[list[SimJob]] | None = None

    def __repr__(self) -> str:  # the password stays out of reprs
        return f"SimulatorServer(url={self.url!r}, jobs={len(self.plan.jobs)})"

    # --- lifecycle ----------------------------------------------------------
    def build_app(self) -> web.Application:
        """Return the aiohttp application."""
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        app[SERVER_KEY] = self
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_put("/_sim/faults", self._put_faults)
        app.router.add_get("/_sim/requests", self._get_requests)
        app.router.add_delete("/_sim/requests", self._clear_requests)
        app.router.add_put("/_sim/clock", self._put_clock)
        routes_v2.register(app.router)
        routes_v1.register(app.router)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; return the base URL."""
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- helpers for handlers ----------------------------------------------
    def job(self, job_id: str, api: str) -> SimJob:
        """Return the job named ``job_id`` in ``api``'s form (v2: UUID, v1: ``WS;JSID;JOB``) or raise HWA's 404."""
        job = (self.plan.by_id if api == "v2" else self.plan.by_v1_id).get(job_id)
        if job is None:
            raise web.HTTPNotFound(
                text=json.dumps({"messages": [f'AWSJPL506E The job "{job_id}" was not found in the plan.']}),
                content_type="application/json",
            )
        return job

    def job_json(self, job: SimJob, version: str) -> str:
        """Return the JSON text of ``job`` in the v2 or v1 shape."""
        from tws.simulator import render

        return render.job_v2_text(self.plan, job) if version == "v2" else render.job_v1_text(self.plan, job)

    def jobs_of_stream(self, index: int) -> list[SimJob]:
        """Return the jobs of job stream ``index``."""
        if self._jobs_of_stream is None:
            grouped: list[list[SimJob]] = [[] for _ in self.plan.streams]
            for job in self.plan.jobs:
                grouped[job.stream].append(job)
            self._jobs_of_stream = grouped
        return self._jobs_of_stream[index]

    def check_plan_id(self, plan_id: str) -> None:
        """Accept ``current`` and the plan's own id; otherwise 404."""
        if plan_id not in ("current", self.plan.plan_id):
            raise web.HTTPNotFound(
                text=json.dumps({"messages": [f'AWSJPL001E The plan "{plan_id}" does not exist.']}),
                content_type="application/json",
            )

    # --- middleware: log, faults, auth -------------------------------------
    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (user, password) == self._credentials

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        entry = LoggedRequest(time.monotonic(), request.method, request.path, "pending", raw_path=request.raw_path)
        self.requests.append(entry)
        outcome, retry_after = "", None
        faults = self.faults
        try:
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if self._roll(faults.reset):
                outcome = "reset"
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)
            if self._roll(faults.hang):
                outcome = entry.outcome = "hang"
                await asyncio.sleep(faults.hang_seconds)
            if self._roll(faults.unauthorized_401) or not self._authorized(request):
                response: web.StreamResponse = error_response(
                    401, "AWSJCS011E The user is not authenticated.", **{"WWW-Authenticate": 'Basic realm="twsd"'}
                )
            elif self._roll(faults.throttle_429):
                retry_after = faults.retry_after
                response = error_response(429, "AWSJCO429E Too many requests.", **{"Retry-After": str(retry_after)})
            elif self._roll(faults.error_503):
                response = error_response(503, "AWSJCO503E The service is temporarily unavailable.")
            elif self._roll(faults.error_500):
                response = error_response(500, "AWSJCO005E An internal error occurred.")
            else:
                try:
                    response = await handler(request)
                except web.HTTPException as exc:
                    if exc.content_type == "application/json" or exc.status < 400:
                        raise
                    response = error_response(exc.status, f"AWSJCO{exc.status}E {exc.reason}.")
            outcome = outcome or str(response.status)
            return response
        except web.HTTPException as exc:
            outcome = outcome or str(exc.status)
            raise
        finally:
            entry.outcome, entry.retry_after = outcome or "cancelled", retry_after

    # --- control endpoints --------------------------------------------------
    async def _get_faults(self, request: web.Request) -> web.Response:
        return json_response(self.faults.as_dict())

    async def _put_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object of fault names to values")
            self.faults = Faults().updated(body) if body.pop("reset_all", False) else self.faults.updated(body)
        except (ValueError, TypeError) as exc:
            return error_response(400, f"AWSSIM001E {exc}")
        return json_response(self.faults.as_dict())

    async def _get_requests(self, request: web.Request) -> web.Response:
        return json_response([r.as_dict() for r in self.requests])

    async def _clear_requests(self, request: web.Request) -> web.Response:
        self.requests.clear()
        return web.Response(status=204)

    async def _put_clock(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.plan.freeze(bool(body.get("frozen")))
        return json_response({"frozen": bool(body.get("frozen")), "now": self.plan.now()})
