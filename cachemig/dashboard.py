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
