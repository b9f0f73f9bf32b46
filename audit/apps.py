from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = gettext_lazy("Audit trail")
    resync_core_checks = ("audit.workers.core_check",)
    resync_background_services = ("audit.workers.start",)
    resync_shutdown_drains = ("audit.workers.drain",)
    resync_health_components = (("audit", "audit.health.check", False),)
    resync_dashboard_cards = ("audit.dashboard.card",)

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from audit import conf, signals  # noqa: F401  (conf registers the system checks)

        auth_signals.user_logged_in.connect(signals.on_login, dispatch_uid="audit.login")
        auth_signals.user_logged_out.connect(signals.on_logout, dispatch_uid="audit.logout")
        auth_signals.user_login_failed.connect(signals.on_login_failed, dispatch_uid="audit.login_failed")
