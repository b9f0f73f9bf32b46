"""Create the demo admin (once) and load each app's demo data."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from resync_site.hooks import declared
from resync_site.roles import ADMINS, roles_sync


class Command(BaseCommand):
    help = "Create the demo admin (password from RESYNC_ADMIN_PASSWORD or generated and shown once) and demo data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default=os.environ.get("RESYNC_ADMIN_USERNAME", "admin"))

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        roles_sync()
        user_model = get_user_model()
        username = options["username"]
        if not user_model.objects.filter(username=username).exists():
            password = os.environ.get("RESYNC_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=username, email="", password=password)
            user.groups.add(Group.objects.get(name=ADMINS))
            if os.environ.get("RESYNC_ADMIN_PASSWORD"):
                self.stdout.write(f"Demo admin '{username}' created with the password from RESYNC_ADMIN_PASSWORD.")
            else:
                self.stdout.write(
                    self.style.WARNING(f"Demo admin '{username}' created. Password (shown only this once): {password}")
                )
        else:
            self.stdout.write(f"Demo admin '{username}' already exists; password unchanged.")
        for path in declared("resync_demo_loaders"):
            summary = import_string(path)()
            self.stdout.write(f"demo data: {path}: {summary}")
