from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ResyncSiteConfig(AppConfig):
    name = "resync_site"
    verbose_name = gettext_lazy("Resync platform")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from resync_site import checks  # noqa: F401  (registers system checks)
        from resync_site.permissions import connect_signals

        connect_signals()

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs: object) -> None:
    # Permissions of every app exist only after post_migrate, as Django's own
    # create_permissions shows; resync_site is last in INSTALLED_APPS, so all are there.
    from resync_site.roles import roles_sync

    roles_sync()
