"""Run a production worker: the Huey consumer inside the start-up and shutdown phases."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from django.core.management.base import BaseCommand

from resync_site import lifecycle
from resync_site.management.commands.serve import Runner


class Command(BaseCommand):
    help = "Run the Huey consumer (threads) with Resync's start-up checks and graceful shutdown."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lifecycle.initialize_core_systems()
        except lifecycle.StartupError as exc:
            self.stderr.write(f"resync: start-up failed: {exc}")
            sys.exit(2)
        runner = Runner(host="", port=0, worker=True, embedded=False, out=self.stdout, web=False)
        asyncio.run(runner.run())
