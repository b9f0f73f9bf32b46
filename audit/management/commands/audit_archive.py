"""Move entries older than AUDIT_RETENTION_DAYS to signed, compressed archive files."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.operations import entries_archive_recorded


class Command(BaseCommand):
    help = "Archive audit entries past retention to gzip JSON-lines files with a signed manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, default=None, help="override AUDIT_RETENTION_DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        results = entries_archive_recorded(actor="manage.py audit_archive", older_than_days=options["older_than_days"])
        for result in results:
            self.stdout.write(f"archived seq {result.first_seq}..{result.last_seq} ({result.count}) to {result.path}")
        if not results:
            self.stdout.write("nothing to archive")
