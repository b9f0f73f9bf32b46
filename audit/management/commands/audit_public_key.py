"""Print the public keys that check the trail's signed tree heads (safe to hand to an auditor)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.proofs import public_key_document
from core.errors import KeyRingError


class Command(BaseCommand):
    help = "Export the Ed25519 public keys of the audit tree heads, for scripts/audit_verify_receipt --public-key."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = public_key_document()
        except KeyRingError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(document, indent=2))
