"""Run Resync in one process: Daphne, the Huey consumer, background services and simulators."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from resync_site.process import Runner, own_process


class Command(BaseCommand):
    help = "Serve HTTP and websockets with Daphne, run the Huey consumer and the embedded simulators."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--no-worker", action="store_true", help="do not run the in-process Huey consumer")
        parser.add_argument("--no-embedded", action="store_true", help="do not start the embedded simulators")

    def handle(self, *args: Any, **options: Any) -> None:
        runner = Runner(
            host=options["host"],
            port=options["port"],
            worker=not options["no_worker"],
            embedded=not options["no_embedded"],
            out=self.stdout,
        )
        own_process(runner, stderr=self.stderr)
