"""The flags card of the operations dashboard."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cachemig.selectors import flag_rows


def card() -> dict[str, Any]:
    """Return each flag's state, rollout percentage, override and guard status."""
    rows = []
    breached = False
    for row in flag_rows():
        value = {"on": _("on"), "off": _("off")}.get(row.state, f"{row.percent}%")
        if row.override != "unset":
            value = f"{value} · APP_{row.name}={row.override}"
        guard_bad = row.guard_status.startswith("breached")
        breached = breached or guard_bad
        rows.append(
            {"label": row.name, "value": value, "state": "down" if guard_bad else ("ok" if row.percent else "unknown")}
        )
    return {
        "id": "flags",
        "title": _("Feature flags"),
        "permission": "cachemig.view_featureflag",
        "state": "degraded" if breached else "ok",
        "metrics": [],
        "rows": rows,
        "link": "/admin/cachemig/featureflag/",
    }


def cache_card() -> dict[str, Any]:
    """Return the migrating cache's figures as this web process sees them (``manage.py cachemig status``)."""
    from django.core.cache import caches

    from cachemig.backends import MigratingCache
    from cachemig.backends.guard import GUARDED_ALIAS

    card: dict[str, Any] = {
        "id": "cache",
        "title": _("Cache migration"),
        "permission": "cachemig.view_featureflag",
        "link": "/admin/cachemig/featureflag/",
        "rows": [],
    }
    cache = caches[GUARDED_ALIAS]
    if not isinstance(cache, MigratingCache):
        return {**card, "state": "unknown", "metrics": [], "error": _("the default cache is not migrating")}
    stats = cache.get_stats()
    circuit = stats["circuit"]["state"]
    hit_rate = stats["hit_rate"]

    def percent(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    metrics = [
        {"key": "circuit", "label": _("New cache circuit"), "value": circuit},
        {"key": "hit_rate_new", "label": _("Hit rate (new)"), "value": percent(hit_rate.get("new"))},
        {"key": "hit_rate_legacy", "label": _("Hit rate (legacy)"), "value": percent(hit_rate.get("legacy"))},
        {"key": "fallbacks", "label": _("Fallbacks to legacy"), "value": stats["fallbacks_total"]},
        {"key": "errors", "label": _("Cache errors"), "value": stats["errors_total"]},
        {"key": "keys_to_repair", "label": _("Keys to repair"), "value": stats["keys_to_repair"]},
        {"key": "shadow_mismatches", "label": _("Shadow mismatches"), "value": stats["shadow"]["mismatches_total"]},
    ]
    if circuit == "open":
        state = "down"
    elif circuit == "half_open" or stats["keys_to_repair"] or stats["shadow"]["mismatches_total"]:
        state = "degraded"
    else:
        state = "ok"
    return {**card, "state": state, "metrics": metrics}
