"""HWA simulator: the v2 and v1 REST APIs over a seeded plan, with fault injection."""

from __future__ import annotations

import asyncio
import logging

from tws.simulator.faults import Faults, parse_faults
from tws.simulator.plan import SimPlan
from tws.simulator.server import SimulatorServer

__all__ = ["Faults", "SimPlan", "SimulatorServer", "parse_faults", "run"]


async def _serve_until_cancelled(server: SimulatorServer) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


async def run(tg: asyncio.TaskGroup, host: str) -> str:
    """Start the embedded simulator in ``tg`` unless ``TWS_BASE_URL`` points at a real server; return the URL."""
    import os

    from tws import conf
    from tws.hwa.settings import DEFAULT_PASSWORD, DEFAULT_USERNAME

    configured = os.environ.get("TWS_BASE_URL", "")
    if configured:
        return configured
    plan = SimPlan(jobs=int(conf.get("TWS_SIMULATOR_JOBS")), seed=int(conf.get("TWS_SIMULATOR_SEED")))
    server = SimulatorServer(
        plan=plan,
        username=os.environ.get("TWS_USERNAME", DEFAULT_USERNAME),
        password=os.environ.get("TWS_PASSWORD", DEFAULT_PASSWORD),
        faults=parse_faults(str(conf.get("TWS_SIMULATOR_FAULTS"))),
    )
    bind = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 — compared, not bound
    port = int(conf.get("TWS_SIMULATOR_PORT"))
    try:
        url = await server.start(bind, port)
    except OSError as exc:
        url = await server.start(bind, 0)
        logging.getLogger("resync.tws").warning(
            "tws simulator: port %s unavailable (%s); listening at %s instead (set TWS_SIMULATOR_PORT to keep a "
            "fixed port)",
            port,
            exc.strerror,
            url,
        )
    # This process's client (web and embedded worker) talks to the simulator it started, wherever it listens.
    os.environ["TWS_BASE_URL"] = url
    tg.create_task(_serve_until_cancelled(server), name="tws-simulator")
    return url
