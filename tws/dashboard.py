"""The TWS card of the operations dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
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


def _list(model: str, **filters: str) -> str:
    """Return the admin list of ``model`` filtered as the count beside the link."""
    return f"{reverse(f'admin:tws_{model}_changelist')}?{urlencode(filters)}"


def at_risk_card() -> dict[str, Any]:
    """Return the critical jobs that will miss their critical start, the latest first."""
    at_risk = selectors.critical_at_risk()
    late = [r for r in at_risk if r.lateness.total_seconds() > 0]
    return {
        "id": "tws_at_risk",
        "title": _("Critical jobs at risk"),
        "permission": "tws.view_jobinplan",
        "state": "down" if late else "degraded" if at_risk else "ok",
        "metrics": [
            {
                "key": "at_risk",
                "label": _("At risk"),
                "value": len(at_risk),
                "url": _list("jobinplan", critical="at_risk"),
            },
            {"key": "late", "label": _("Will be late"), "value": len(late), "url": _list("jobinplan", critical="late")},
            {
                "key": "critical",
                "label": _("Critical jobs in plan"),
                "value": selectors.critical_count(),
                "url": _list("jobinplan", critical="yes"),
            },
        ],
        "rows": [
            {
                "label": f"{r.job.workstation}#{r.job.job_stream}.{r.job.name}",
                "value": _("%(minutes)+d min") % {"minutes": int(r.lateness.total_seconds() // 60)},
                "state": "down" if r.lateness.total_seconds() > 0 else "degraded",
                "url": reverse("admin:tws_jobinplan_change", args=[r.job.pk]),
            }
            for r in sorted(at_risk, key=lambda r: -r.lateness)[:8]
        ],
        "link": _list("jobinplan", critical="at_risk"),
    }


def card() -> dict[str, Any]:
    """Return circuit state, last sync, jobs in plan by status, errors today and unlinked workstations.

    Every count carries the ``url`` of the admin list it counts (metrics and rows alike).
    """
    circuit = _CIRCUIT.get(int(metrics.CIRCUIT_STATE._value.get()), "closed")
    last = selectors.last_sync()
    counts = selectors.plan_counts()
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    errors_today = Alert.objects.filter(kind="job_error", created_at__gte=today).count()
    unlinked = Workstation.objects.filter(link_state="unlinked").count()
    open_alerts = selectors.alert_list(state="open").count()
    jobs = reverse("admin:tws_jobinplan_changelist")
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
            {"key": "jobs_in_plan", "label": _("Jobs in plan"), "value": counts["total"], "url": jobs},
            {
                "key": "errors_today",
                "label": _("Errors today"),
                "value": errors_today,
                "url": _list("alert", kind__exact="job_error", created_at__gte=today.isoformat()),
            },
            {
                "key": "unlinked",
                "label": _("Unlinked workstations"),
                "value": unlinked,
                "url": _list("workstation", link_state__exact="unlinked"),
            },
            {
                "key": "open_alerts",
                "label": _("Open alerts"),
                "value": open_alerts,
                "url": _list("alert", acknowledged_at__isempty="1"),
            },
        ],
        "rows": [
            {
                "label": status,
                "value": n,
                "state": _JOB_STATES.get(status, "unknown"),
                "url": _list("jobinplan", status__exact=status),
            }
            for status, n in sorted(counts["by_status"].items(), key=lambda item: -item[1])
        ],
        "link": jobs,
    }
