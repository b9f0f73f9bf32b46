"""Purge the rows past their retention now, or with --dry-run say what would go."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from resync_site.retention import retention_run


class Command(BaseCommand):
    help = "Purge ETL log lines, TWS transitions and sync runs past their retention (each batch audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="remove nothing; say what would go")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        batches = retention_run(dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        for purged in batches:
            digest = f" digest {purged.digest}" if purged.digest else ""
            self.stdout.write(
                f"{verb} {purged.count} row(s) of {purged.table}, ids {purged.first_id}..{purged.last_id}{digest}"
            )
        if not batches:
            self.stdout.write("nothing is past its retention")
