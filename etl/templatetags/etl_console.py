"""Template tags of the operator console: the live job panel (job page and admin Job page)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("etl/_live_panel.html", takes_context=True)
def live_job_panel(context: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Render the live panel of job ``job_id`` for the current user."""
    from etl.views import panel_context

    return panel_context(context["request"], int(job_id))
