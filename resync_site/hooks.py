"""Collect the hooks each app declares on its AppConfig, so the root composes without a registry.

An app's ``AppConfig`` may declare, as tuples of dotted paths:

- ``resync_core_checks``: ``def check() -> None`` raising with an operator-readable message;
- ``resync_background_services``: ``async def start(tg: asyncio.TaskGroup) -> None``;
- ``resync_shutdown_drains``: ``async def drain() -> None``, run before the database closes;
- ``resync_embedded_servers``: ``async def run(tg, host: str) -> str`` (returns its base URL), `serve` only;
- ``resync_demo_loaders``: ``def load() -> str`` (returns a summary), run by ``demo_setup``;
- ``resync_health_components``: ``(name, dotted path, critical)`` triples for /health/detailed;
- ``resync_dashboard_cards``: ``def card() -> dict`` for the admin index dashboard (shape in ``resync_site.dashboard``).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps


def declared(attribute: str) -> list[Any]:
    """Return every value declared under ``attribute`` by installed apps, in INSTALLED_APPS order."""
    found: list[Any] = []
    for config in apps.get_app_configs():
        found.extend(getattr(config, attribute, ()))
    return found
