"""Show the feature flags, or watch one flag as this process evaluates it."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from cachemig import flags
from cachemig.selectors import flag_rows, flags_missing_in_database


class Command(BaseCommand):
    help = "Table of flags (state, percent, override, guard status, last change); --watch NAME follows one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--watch", metavar="NAME", help="print NAME's value each time it changes here")
        parser.add_argument("--key", default="watch", help="key evaluated by --watch")
        parser.add_argument("--until", choices=["on", "off"], help="with --watch: exit 0 once the value is this")
        parser.add_argument("--timeout", type=float, default=0.0, help="with --watch: exit 1 after this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["watch"]:
            self._watch(options["watch"], options["key"], options["until"], options["timeout"])
            return
        rows = flag_rows()
        if options["json"]:
            self.stdout.write(json.dumps([r.__dict__ for r in rows], default=str, indent=2))
            return
        header = f"{'NAME':<30} {'STATE':<10} {'%':>4} {'OVERRIDE':<8} {'GUARD':<28} LAST CHANGE"
        self.stdout.write(header)
        for r in rows:
            change = (
                f"{timezone.localtime(r.updated_at):%Y-%m-%d %H:%M:%S} by {r.updated_by}: {r.reason}"
                if r.updated_at
                else ""
            )
            self.stdout.write(
                f"{r.name:<30} {r.state:<10} {r.percent:>4} {r.override:<8} {r.guard_status[:28]:<28} {change}"
            )
        for name, where in sorted(flags_missing_in_database().items()):
            self.stdout.write(self.style.WARNING(f"{name}: used in code ({where[0]}) but missing in the database"))

    def _watch(self, name: str, key: str, until: str | None, timeout: float) -> None:
        deadline = time.monotonic() + timeout if timeout else float("inf")
        last = "unseen"
        while time.monotonic() < deadline:
            value = "on" if flags.is_enabled(name, key) else "off"
            if value != last:
                self.stdout.write(f"{time.time():.3f} {name} {value}")
                self.stdout.flush()
                last = value
                if value == until:
                    return
            time.sleep(0.005)
        sys.exit(1)
