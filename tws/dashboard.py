"""The TWS card of the operations dashboard."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tws import metrics, selectors
from tws.models import Alert, Workstation

_CIRCUIT = {0: "closed", 1: "half-open", 2: "open"}
_CIRCUIT_LABELS = {
    "closed": gettext_lazy("closed"),
    "half-open": gettext_lazy("half-open"),
    "open": gettext_lazy("open"),
}
_JOB_STATES = {"ERROR": "down", "ABEND": "down", "HELD": "degraded", "CANCELED": "degraded", "SUCCESSFUL": "ok"}


def card() -> dict[str, Any]:
    """Return circuit state, last sync, jobs in plan by status, errors today and unlinked workstations."""
    circuit = _CIRCUIT.get(int(metrics.CIRCUIT_STATE._value.get()), "closed")
    last = selectors.last_sync()
    counts = selectors.plan_counts()
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    errors_today = Alert.objects.filter(kind="job_error", created_at__gte=today).count()
    unlinked = Workstation.objects.filter(link_state="unlinked").count()
    open_alerts = selectors.alert_list(state="open").count()
    if circuit == "open" or (last is not None and last.outcome == "failed"):
        state = "down" if circuit == "open" else "degraded"
    elif last is None:
        state = "unknown"
    else:
        state = "degraded" if unlinked or errors_today else "ok"
    return {
        "id": "tws",
        "title": _("TWS engine"),
        "permission": "tws.view_jobinplan",
        "state": state,
        "metrics": [
            {"key": "circuit", "label": _("Circuit"), "value": str(_CIRCUIT_LABELS[circuit])},
            {
                "key": "last_sync",
                "label": _("Last sync"),
                "value": f"{timezone.localtime(last.finished_at):%d/%m %H:%M} ({last.outcome})" if last else "-",
                "link": "/admin/tws/syncrun/",
            },
            {
                "key": "jobs_in_plan",
                "label": _("Jobs in plan"),
                "value": counts["total"],
                "link": "/admin/tws/jobinplan/",
            },
            {
                "key": "errors_today",
                "label": _("Errors today"),
                "value": errors_today,
                "link": "/admin/tws/alert/?kind__exact=job_error",
            },
            {
                "key": "unlinked",
                "label": _("Unlinked workstations"),
                "value": unlinked,
                "link": "/admin/tws/workstation/?link_state__exact=unlinked",
            },
            {
                "key": "open_alerts",
                "label": _("Open alerts"),
                "value": open_alerts,
                "link": "/admin/tws/alert/?acknowledged_at__isempty=1",
            },
        ],
        "rows": [
            {"label": status, "value": n, "state": _JOB_STATES.get(status, "unknown")}
            for status, n in sorted(counts["by_status"].items(), key=lambda item: -item[1])
        ],
        "link": "/admin/tws/jobinplan/",
    }
