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
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone, translation
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
    """Return the cards ``user`` may see; a failing card shows as down, never breaks the page.

    Dashboards poll: the cards are built at most once per ``RESYNC_DASHBOARD_CACHE_SECONDS`` per
    language and shared through the default cache; permissions are applied per user on every call.
    """
    seconds = int(settings.RESYNC_DASHBOARD_CACHE_SECONDS)
    key = f"resync:dashboard:v1:{translation.get_language()}"
    built = caches["default"].get(key) if seconds > 0 else None
    if built is None:
        built = {"generated_at": timezone.now().isoformat(), "cards": _build_cards()}
        if seconds > 0:
            caches["default"].set(key, built, timeout=seconds)
    cards = []
    for card in built["cards"]:
        permission = card.get("permission")
        if permission and not user.has_perm(permission):
            continue
        cards.append(card)
    return {"generated_at": built["generated_at"], "cards": cards}


def _build_cards() -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    for path in card_paths():
        try:
            card = dict(import_string(path)())
        except Exception:  # one app's broken card must not take the operations dashboard down
            log.exception("dashboard: card %s failed", path)
            card = _broken(path)
        cards.append(card)
    return cards
