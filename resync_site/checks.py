"""System checks of the platform settings, with messages an operator understands."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string


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


# Django's W001-W003 look for the exact dotted paths of its middlewares; ours are subclasses of
# them (resync_site/inline_middleware.py), so settings silences those three and this check
# keeps the same guarantee by class.
_REQUIRED_MIDDLEWARE = {
    "django.middleware.security.SecurityMiddleware": ("resync.W002", "security headers (HSTS, nosniff) are"),
    "django.middleware.clickjacking.XFrameOptionsMiddleware": ("resync.W003", "the X-Frame-Options header is"),
    "django.middleware.csrf.CsrfViewMiddleware": ("resync.W004", "CSRF protection is"),
}


@register(Tags.security, deploy=True)
def check_security_middleware(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when MIDDLEWARE lacks Django's security, clickjacking or CSRF middleware (or a subclass)."""
    present = []
    for path in settings.MIDDLEWARE:
        try:
            present.append(import_string(path))
        except ImportError:
            continue  # Django reports a middleware that cannot be imported on its own
    problems = []
    for path, (check_id, what) in _REQUIRED_MIDDLEWARE.items():
        required = import_string(path)
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in present):
            problems.append(Warning(f"MIDDLEWARE has no {path} (or subclass): {what} off", id=check_id))
    return problems
