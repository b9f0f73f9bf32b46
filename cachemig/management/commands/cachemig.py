"""``manage.py cachemig status|warm|compare``: look at and act on the migrating cache."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cachemig.backends import MigratingCache, guard
from cachemig.backends.operations import cache_compare, cache_warm

PER_PROCESS_WARNING = (
    "note: the legacy side is a locmem cache, private to each process; this command sees its own "
    "(usually empty) copy, not the web processes' one"
)


class Command(BaseCommand):
    help = "Show the migrating cache's figures (status), copy legacy keys into the new side (warm), or compare sides."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the three actions and their options."""
        parser.add_argument("action", choices=["status", "warm", "compare"])
        parser.add_argument("--alias", default="default", help="the migrating cache's alias (default: default)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--limit", type=int, default=100_000, help="warm: at most this many keys")
        parser.add_argument("--dry-run", action="store_true", help="warm: count, copy nothing")
        parser.add_argument("--sample", type=int, default=1000, help="compare: keys to sample")
        parser.add_argument("--seed", type=int, default=None, help="compare: random seed of the sample")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the chosen action on the migrating cache."""
        cache = caches[options["alias"]]
        if not isinstance(cache, MigratingCache):
            raise CommandError(f"CACHES[{options['alias']!r}] is {type(cache).__name__}, not a MigratingCache")
        if "LocMemCache" in type(cache.legacy).__name__ and options["action"] != "status":
            self.stderr.write(PER_PROCESS_WARNING)
        if options["action"] == "status":
            report = guard.evaluate(cache)
            result: dict[str, Any] = {
                "stats": cache.get_stats(),
                "guard": {"ok": report.ok, "reason": report.reason, "figures": report.figures},
            }
        elif options["action"] == "warm":
            result = asdict(cache_warm(cache=cache, limit=options["limit"], dry_run=options["dry_run"]))
        else:
            result = asdict(cache_compare(cache=cache, sample=options["sample"], seed=options["seed"]))
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, default=str))
        else:
            self._print(result)

    def _print(self, result: dict[str, Any], indent: str = "") -> None:
        for name, value in result.items():
            if isinstance(value, dict) and value:
                self.stdout.write(f"{indent}{name}:")
                self._print(value, indent + "  ")
            else:
                self.stdout.write(f"{indent}{name}: {value}")
