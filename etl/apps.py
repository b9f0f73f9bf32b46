from __future__ import annotations

from django.apps import AppConfig


class EtlConfig(AppConfig):
    name = "etl"
    verbose_name = "ETL pipelines"
    resync_embedded_servers = ("etl.demo.server.run",)
    resync_demo_loaders = ("etl.demo.loader.load",)
    resync_shutdown_drains = ("etl.lifecycle.drain",)
    resync_health_components = (("etl", "etl.health.check", False),)
    resync_dashboard_cards = ("etl.console_selectors.dashboard_card",)

    def ready(self) -> None:
        from core import keyring
        from etl import conf  # noqa: F401 — registers the settings check
        from etl.metrics import register_overdue_collector
        from etl.services.credentials import credentials_reencrypt

        keyring.register_reencryptor("etl.credential", credentials_reencrypt)
        # Read at scrape time only (no I/O here): the ETLJobsPastTimeout alert watches it.
        register_overdue_collector()
