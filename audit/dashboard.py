"""The audit card of the operations dashboard."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.services import head_read
from audit.verification import last_verification


def card() -> dict[str, Any]:
    """Return the last sealed sequence number and the last verification's result."""
    head_seq, _hash = head_read()
    verification = last_verification() or {}
    at = verification.get("at")
    when = parse_datetime(at) if isinstance(at, str) else at
    ok = verification.get("ok")
    if not verification:
        result, state = _("never run"), "unknown"
    elif ok:
        result, state = _("chain intact"), "ok"
    else:
        result, state = _("broken at seq %(seq)s") % {"seq": verification.get("first_bad_seq")}, "down"
    return {
        "id": "audit",
        "title": _("Audit trail"),
        "permission": "audit.view_auditentry",
        "state": state,
        "metrics": [
            {"key": "last_seq", "label": _("Last sealed seq"), "value": head_seq if head_seq else "-"},
            {"key": "verification", "label": _("Last verification"), "value": result},
            {
                "key": "verified_at",
                "label": _("Verified at"),
                "value": timezone.localtime(when).strftime("%d/%m %H:%M") if when else "-",
            },
        ],
        "link": "/admin/audit/auditentry/",
    }
