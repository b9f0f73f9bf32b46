"""The operations dashboard (admin index): cards collected from each app's ``resync_dashboard_cards`` hook.

A card is a dict: ``id``, ``title``, ``state`` (ok/degraded/down/unknown), optional
``permission`` (shown only to users who have it), ``metrics`` (``[{key, label, value}]``),
``chart`` (``{"kind": "stacked_bars", "title", "days": [...], "series": [{"status", "values"}]}``),
``activity`` (recent jobs with re-run links), ``rows`` (``[{label, value, state}]``) and ``link``.
Each app owns its card (``tws.dashboard.card``, ``etl.console_selectors.dashboard_card``,
``audit.dashboard.card``, ``cachemig.dashboard.card`` and ``cache_card``) and declares it on its AppConfig.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

log = logging.getLogger("resync.dashboard")


def card_paths() -> list[str]:
    """Return the dotted paths of every card, in INSTALLED_APPS order."""
    paths: list[str] = []
    for config in apps.get_app_configs():
        paths.extend(getattr(config, "resync_dashboard_cards", ()))
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
