"""Run a production worker: the Huey consumer inside the start-up and shutdown phases."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from resync_site.process import Runner, own_process


class Command(BaseCommand):
    help = "Run the Huey consumer (threads) with Resync's start-up checks and graceful shutdown."

    def handle(self, *args: Any, **options: Any) -> None:
        runner = Runner(host="", port=0, worker=True, embedded=False, out=self.stdout, web=False)
        own_process(runner, stderr=self.stderr)
