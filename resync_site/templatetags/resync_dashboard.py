"""Template tags of the operations dashboard on the admin index."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_cards(context: dict[str, Any]) -> dict[str, Any]:
    """Return the dashboard cards the current user may see."""
    from resync_site.dashboard import collect

    return collect(context["request"].user)


@register.filter
def chart_max(chart: dict[str, Any]) -> int:
    """Return the highest daily total of a stacked chart (at least 1)."""
    series = chart.get("series", [])
    totals = [sum(values) for values in zip(*(s["values"] for s in series), strict=False)] if series else []
    return max([1, *totals])


STATE_LABELS = {
    "ok": gettext_lazy("ok"),
    "degraded": gettext_lazy("degraded"),
    "down": gettext_lazy("down"),
    "unknown": gettext_lazy("unknown"),
}


@register.filter
def state_label(state: str) -> str:
    """Return the operator's word for a card state."""
    return str(STATE_LABELS.get(state, state))
