"""System checks of the platform settings, with messages an operator understands."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_observability(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when /metrics and /health/detailed are open in production."""
    if settings.PRODUCTION and not settings.RESYNC_PROTECT_OBSERVABILITY:
        return [
            Warning(
                "RESYNC_PROTECT_OBSERVABILITY is off in production: /metrics and /health/detailed are open to anyone",
                id="resync.W001",
            )
        ]
    return []


@register()
def check_heavy_interval(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Reject a heavy-task interval below one minute."""
    if settings.RESYNC_HEAVY_TASK_INTERVAL_SECONDS < 60:
        return [
            Error(
                "RESYNC_HEAVY_TASK_INTERVAL_SECONDS must be at least 60 "
                f"(got {settings.RESYNC_HEAVY_TASK_INTERVAL_SECONDS})",
                id="resync.E001",
            )
        ]
    return []
