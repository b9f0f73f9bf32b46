from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CachemigConfig(AppConfig):
    name = "cachemig"
    verbose_name = gettext_lazy("Feature flags and cache migration")
    resync_health_components = (
        ("flags", "cachemig.health.check_flags", False),
        ("cache_migration", "cachemig.backends.guard.health_check", False),
    )
    resync_core_checks = ("cachemig.backends.guard.check_cache_settings",)
    # Sweeps the guards in-process while the task queue (Redis) is unreachable.
    resync_background_services = ("cachemig.watchdog.start",)
    resync_dashboard_cards = ("cachemig.dashboard.card", "cachemig.dashboard.cache_card")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from cachemig import checks  # noqa: F401  (checks registers system checks)
        from cachemig.backends import guard
        from cachemig.flags.record import flags_of_record_ensure

        # A worker that never touches the cache must still have the guard to sweep.
        guard.ensure_registered("MIGRATION_USE_NEW_CACHE")
        # Reference data, like Django's own permissions: re-created after a flush (tests) or a migrate.
        post_migrate.connect(flags_of_record_ensure, sender=self, dispatch_uid="cachemig.flags_of_record")
