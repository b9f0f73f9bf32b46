"""Run a simulator on its own event loop in a thread (tests, benchmarks, sync callers)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from tws.simulator.faults import Faults
from tws.simulator.plan import SimPlan
from tws.simulator.server import SimulatorServer


async def _cancel_pending() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class ThreadedSimulator:
    """A simulator serving from a background thread until :meth:`close`."""

    def __init__(self, *, jobs: int = 200, seed: int = 1, username: str, password: str, speed: float = 1.0) -> None:
        self.server = SimulatorServer(
            plan=SimPlan(jobs=jobs, seed=seed, speed=speed), username=username, password=password
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="tws-simulator", daemon=True)
        self._thread.start()
        self.port = 0
        self.url = self.call(self.server.start("127.0.0.1", 0))
        self.port = int(self.url.rsplit(":", 1)[1])

    def __repr__(self) -> str:
        return f"ThreadedSimulator(url={self.url!r})"

    def call(self, coro: Any) -> Any:
        """Run ``coro`` on the simulator's loop and return its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def set_faults(self, **changes: Any) -> None:
        """Replace the faults: unspecified ones return to none."""
        self.server.faults = Faults().updated(changes)

    def stop_listening(self) -> None:
        """Stop the server (the port refuses connections) without ending the thread."""
        self.call(self.server.stop())

    def start_listening(self) -> None:
        """Listen again on the same port."""
        self.call(self.server.start("127.0.0.1", self.port))

    def requests(self, path_contains: str = "") -> list[Any]:
        """Return the logged requests whose path contains ``path_contains``."""
        return [r for r in list(self.server.requests) if path_contains in r.path]

    def close(self) -> None:
        """Stop the server, cancel requests still hanging, and end the thread."""
        self.call(self.server.stop())
        self.call(_cancel_pending())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()
