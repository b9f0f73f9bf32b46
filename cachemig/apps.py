from __future__ import annotations

from django.apps import AppConfig


class CachemigConfig(AppConfig):
    name = "cachemig"
    verbose_name = "Feature flags and cache migration"
    resync_health_components = (("flags", "cachemig.health.check_flags", False),)

    def ready(self) -> None:
        from cachemig import checks  # noqa: F401  (registers system checks)
