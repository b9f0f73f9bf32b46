"""The operations dashboard (admin index): cards collected from each app's ``resync_dashboard_cards`` hook.

A card is a dict: ``id``, ``title``, ``state`` (ok/degraded/down/unknown), optional
``permission`` (shown only to users who have it), ``metrics`` (``[{key, label, value}]``),
``chart`` (``{"kind": "stacked_bars", "title", "days": [...], "series": [{"status", "values"}]}``),
``activity`` (recent jobs with re-run links), ``rows`` (``[{label, value, state}]``) and ``link``.
Apps that do not declare the hook yet get the built-in card of their floor below.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

log = logging.getLogger("resync.dashboard")

# Used while an app has no ``resync_dashboard_cards`` of its own (the owners add theirs at merge).
FALLBACK_CARDS: dict[str, tuple[str, ...]] = {
    "tws": ("resync_site.dashboard.tws_placeholder_card",),
    "etl": ("etl.console_selectors.dashboard_card",),
    "audit": ("resync_site.dashboard.audit_card",),
    "cachemig": ("resync_site.dashboard.flags_card",),
}


def card_paths() -> list[str]:
    """Return the dotted paths of every card, in INSTALLED_APPS order."""
    paths: list[str] = []
    for config in apps.get_app_configs():
        declared = getattr(config, "resync_dashboard_cards", None)
        paths.extend(declared if declared is not None else FALLBACK_CARDS.get(config.label, ()))
    return paths


def _broken(path: str) -> dict[str, Any]:
    return {"id": path.rsplit(".", 2)[0], "title": path, "state": "down", "metrics": [], "error": _("unavailable")}


def collect(user: Any) -> dict[str, Any]:
    """Return the cards ``user`` may see, each built now; a failing card shows as down, never breaks the page."""
    cards: list[dict[str, Any]] = []
    for path in card_paths():
        try:
            card = dict(import_string(path)())
        except Exception:  # one app's broken card must not take the operations dashboard down
            log.exception("dashboard: card %s failed", path)
            card = _broken(path)
        permission = card.get("permission")
        if permission and not user.has_perm(permission):
            continue
        cards.append(card)
    return {"generated_at": timezone.now().isoformat(), "cards": cards}


def tws_placeholder_card() -> dict[str, Any]:
    """Return the TWS card shown until the tws app declares its own."""
    return {
        "id": "tws",
        "title": _("TWS engine"),
        "state": "unknown",
        "metrics": [],
        "note": _("The scheduler card appears here once the TWS monitor is installed."),
    }


def _last_audit_entry() -> Any:
    # The audit model is being rewritten elsewhere: read whatever it has, by name, defensively.
    try:
        model = apps.get_model("audit", "AuditEntry")
    except LookupError:
        return None
    order = "-seq" if any(f.name == "seq" for f in model._meta.get_fields()) else "-pk"
    return model.objects.order_by(order).first()


def audit_card() -> dict[str, Any]:
    """Return the audit card: last sealed sequence number and when it was written."""
    last = _last_audit_entry()
    seq = getattr(last, "seq", None) if last is not None else None
    when = getattr(last, "timestamp", None) if last is not None else None
    verified = getattr(last, "verified_at", None) if last is not None else None
    return {
        "id": "audit",
        "title": _("Audit trail"),
        "permission": "audit.view_auditentry",
        "state": "ok",
        "metrics": [
            {"key": "last_seq", "label": _("Last sealed seq"), "value": "-" if seq is None else seq},
            {
                "key": "last_entry",
                "label": _("Last entry"),
                "value": timezone.localtime(when).strftime("%d/%m %H:%M") if when else "-",
            },
            {
                "key": "last_verification",
                "label": _("Last verification"),
                "value": timezone.localtime(verified).strftime("%d/%m %H:%M") if verified else "-",
            },
        ],
    }


def flags_card() -> dict[str, Any]:
    """Return the flags card: each flag of record on or off (and its rollout % when the flags store has one)."""
    from cachemig import flags

    percentage = vars(flags).get("rollout_percentage")  # arrives with the database-backed flags
    items = []
    for name in flags.FLAGS_OF_RECORD:
        on = flags.is_enabled(name)
        value = _("on") if on else _("off")
        if callable(percentage):
            try:
                value = f"{value} ({percentage(name)}%)"
            except Exception:  # the percentage is a courtesy; the state above is what matters
                log.debug("dashboard: no rollout percentage for %s", name, exc_info=True)
        items.append({"label": name, "value": value, "state": "ok" if on else "unknown"})
    return {"id": "flags", "title": _("Feature flags"), "state": "ok", "metrics": [], "rows": items}
