"""Template tags of the operator console: the live job panel (job page and admin Job page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("etl/_live_panel.html", takes_context=True)
def live_job_panel(context: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Render the live panel of job ``job_id`` for the current user."""
    from etl.views import panel_context

    return panel_context(context["request"], int(job_id))


@register.filter
def duration(seconds: float | None) -> str:
    """Return ``seconds`` as "1 h 02 min", "1 min 05 s" or "7 s" ("-" when unknown)."""
    from etl.console_selectors import duration_text

    return duration_text(None if seconds in (None, "") else float(seconds))


@register.simple_tag
def time_zone_label() -> str:
    """Return the name of the zone the console shows times in."""
    return str(timezone.get_current_timezone_name())


@register.filter
def status_label(status: str) -> str:
    """Return the operator's word for a job or step status, upper-case as the badges show it."""
    from etl.models import Status

    try:
        return str(Status(str(status).lower()).label).upper()
    except ValueError:
        return str(status).upper()
