"""Plain views: health and metrics."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from resync_site.health import detailed_report, liveness_payload


def _bearer_matches(request: HttpRequest) -> bool:
    expected = settings.RESYNC_OBSERVABILITY_TOKEN
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.RESYNC_METRICS_ALLOWED_NETWORKS)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Answer liveness without touching any dependency."""
    return JsonResponse(liveness_payload())


@require_GET
async def health_detailed(request: HttpRequest) -> JsonResponse:
    """Answer the state of every component (staff or token only in production)."""
    if settings.RESYNC_PROTECT_OBSERVABILITY and not _bearer_matches(request):
        user = await request.auser()
        if not (user.is_active and user.is_staff):
            return JsonResponse(
                {"detail": "staff session or observability token required", "code": "not_authenticated"}, status=401
            )
    status, report = await detailed_report()
    return JsonResponse(report, status=status)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Expose Prometheus metrics (token or allowed networks in production)."""
    if settings.RESYNC_PROTECT_OBSERVABILITY and not (_bearer_matches(request) or _from_allowed_network(request)):
        return JsonResponse(
            {"detail": "metrics are limited to the allowed networks or the token", "code": "forbidden"}, status=403
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def lockout(request: HttpRequest, *_args: object) -> HttpResponse:
    """Answer a locked-out sign-in (django-axes' lockout callable): 429 with a page that says when to retry."""
    from django.template.response import TemplateResponse

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    response = TemplateResponse(request, "resync/lockout.html", {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response.render()
