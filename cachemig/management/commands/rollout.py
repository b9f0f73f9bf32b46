"""Advance a flag to the next stage of its plan after checking its gates."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cachemig import services
from cachemig.exceptions import GateRefused
from cachemig.management.commands._actor import cli_actor
from cachemig.selectors import flag_get
from core.errors import ResyncError


class Command(BaseCommand):
    help = "Advance NAME to its next stage (or --to N) if its guard's figures allow it; --force to override."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--to", type=int, default=None, help="target percentage instead of the next stage")
        parser.add_argument("--force", action="store_true", help="advance even if the gates refuse (recorded)")
        parser.add_argument("--dry-run", action="store_true", help="show the gates and the target, change nothing")
        parser.add_argument("--reason", default="", help="why (kept in the history and the audit trail)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            outcome = services.flag_rollout(
                name=options["name"],
                to=options["to"],
                force=options["force"],
                dry_run=options["dry_run"],
                acting_user=cli_actor(),
                reason=options["reason"],
            )
        except GateRefused as exc:
            raise CommandError(str(exc), returncode=3) from None
        except ResyncError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(outcome.describe() + (" (forced past the gates)" if outcome.forced else ""))
        if outcome.dry_run:
            self.stdout.write(f"dry run: nothing changed; plan {flag_get(name=outcome.flag).rollout_plan}")
