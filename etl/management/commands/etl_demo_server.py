"""Run the demo reports server in the foreground (what `serve` embeds), for a web/worker split."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from etl import conf
from etl.demo.server import start


class Command(BaseCommand):
    help = "Serve the demo reports (AMPLIS/MAPS/FIDC CSV, PDF, XLSX) that `demo_setup` points the systems at."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="port to listen on (default ETL_DEMO_SERVER_PORT, 31117)"
        )
        parser.add_argument(
            "--delay-ms", type=int, default=0, help="answer each report request this much later (a slow source)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["delay_ms"] < 0:
            raise CommandError("--delay-ms must be 0 or more")
        port = options["port"] if options["port"] is not None else int(conf.get_setting("ETL_DEMO_SERVER_PORT"))
        asyncio.run(self._serve(options["host"], port, options["delay_ms"] / 1000))

    async def _serve(self, host: str, port: int, delay_seconds: float) -> None:
        runner, url = await start(host, port, delay_seconds=delay_seconds)
        self.stdout.write(f"ETL demo reports server at {url} (delay {delay_seconds:g} s per report)")
        self.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
