"""Add new encryption and signing keys; re-seal every registered store; old entries stay verifiable."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.operations import keys_rotate
from core.errors import KeyRingError


class Command(BaseCommand):
    help = "Rotate the key ring: new keys become active, stored secrets are re-encrypted, the rotation is audited."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = keys_rotate(actor="manage.py audit_rotate_keys")
        except KeyRingError as exc:
            raise CommandError(str(exc)) from None
        counts = ", ".join(f"{name}: {count}" for name, count in summary["reencrypted"].items()) or "none registered"
        self.stdout.write(
            f"key ring rotated: encryption key {summary['encryption_key']}, signing key {summary['signing_key']}; "
            f"re-encrypted {counts}"
        )
