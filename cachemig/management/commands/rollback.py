"""Turn a flag off for everyone in one step."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cachemig import services
from cachemig.management.commands._actor import cli_actor
from core.errors import ResyncError


class Command(BaseCommand):
    help = "Set NAME to 0% (off) at once; audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--reason", default="manual rollback", help="why (kept in the history and the audit trail)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            event = services.flag_rollback(name=options["name"], reason=options["reason"], acting_user=cli_actor())
        except ResyncError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{event.flag_name}: rolled back {event.from_percent}% -> 0% ({event.reason})")
