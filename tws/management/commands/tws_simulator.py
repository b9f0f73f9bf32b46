"""Run the HWA simulator in the foreground."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tws.hwa.settings import DEFAULT_PASSWORD, DEFAULT_USERNAME
from tws.simulator import SimPlan, SimulatorServer, parse_faults


class Command(BaseCommand):
    help = "Serve a simulated HWA plan (v2 and v1 REST APIs) with optional fault injection."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=31116)
        parser.add_argument("--jobs", type=int, default=2000, help="jobs in plan (100 to 200000)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--speed", type=float, default=1.0, help="plan seconds per real second (0 freezes)")
        parser.add_argument("--faults", default="", help='e.g. "503=0.2,hang=0.05,429=0.1,retry_after=2,latency=20"')
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument("--password", default=DEFAULT_PASSWORD)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 100 <= options["jobs"] <= 200_000:
            raise CommandError("--jobs must be between 100 and 200000")
        try:
            faults = parse_faults(options["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        plan = SimPlan(jobs=options["jobs"], seed=options["seed"], speed=options["speed"] or 1.0)
        if options["speed"] == 0:
            plan.freeze(True)
        server = SimulatorServer(plan=plan, username=options["username"], password=options["password"], faults=faults)
        asyncio.run(self._serve(server, options["host"], options["port"]))

    async def _serve(self, server: SimulatorServer, host: str, port: int) -> None:
        url = await server.start(host, port)
        self.stdout.write(f"TWS simulator at {url} ({len(server.plan.jobs)} jobs); faults: PUT {url}/_sim/faults")
        self.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()
