from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy


class TwsConfig(AppConfig):
    name = "tws"
    verbose_name = gettext_lazy("Workload scheduler (TWS)")
    resync_embedded_servers = ("tws.simulator.run",)
    resync_health_components = (("tws", "tws.health.check", False),)
    resync_demo_loaders = ("tws.demo.load",)
    resync_dashboard_cards = ("tws.dashboard.card", "tws.dashboard.at_risk_card")

    def ready(self) -> None:
        from cachemig import flags
        from core import keyring
        from tws.guard import unified_v2_guard
        from tws.services.connection import reencrypt_connections

        checks.register(check_tws_settings, "tws")
        flags.register_guard("TWS_UNIFIED_V2_ENABLED", unified_v2_guard)
        keyring.register_reencryptor("tws.TWSConnection", reencrypt_connections)


def check_tws_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report invalid TWS_* settings as errors an operator understands."""
    from tws import conf

    return [checks.Error(problem, id=f"tws.E{i:03d}") for i, problem in enumerate(conf.problems(), start=1)]
