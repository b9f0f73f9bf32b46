"""The cache-migration card of the operations dashboard: the migrating cache's figures and breaker."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

pytestmark = pytest.mark.django_db


def _cache_card(client: Any) -> dict[str, Any]:
    cards = {c["id"]: c for c in client.get("/api/dashboard", HTTP_ACCEPT_LANGUAGE="en").json()["cards"]}
    return cards["cache"]


def test_card_shows_the_figures_of_the_migrating_cache(viewer_client: Any) -> None:
    cache = caches["default"]
    before = cache.get_stats()["hits"]["legacy"]
    cache.set("dashboard-card-key", "value")
    assert cache.get("dashboard-card-key") == "value"

    card = _cache_card(viewer_client)
    assert card["title"] == "Cache migration"
    assert card["state"] == "ok"
    metrics = {m["key"]: m["value"] for m in card["metrics"]}
    assert metrics["circuit"] == "closed"
    assert set(metrics) >= {"hit_rate_new", "hit_rate_legacy", "fallbacks", "errors", "keys_to_repair"}
    assert cache.get_stats()["hits"]["legacy"] == before + 1
    assert metrics["hit_rate_legacy"].endswith("%")


def test_an_open_breaker_marks_the_card_down(viewer_client: Any) -> None:
    cache = caches["default"]
    try:
        for _ in range(50):
            cache.breaker.record_failure()
        card = _cache_card(viewer_client)
        assert card["state"] == "down"
        assert {m["key"]: m["value"] for m in card["metrics"]}["circuit"] == "open"
    finally:
        cache.breaker.reset()
    assert _cache_card(viewer_client)["state"] == "ok"


def test_users_without_the_flag_permission_do_not_see_it(client: Any, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user(username="nobody", password="x"))
    assert all(c["id"] != "cache" for c in client.get("/api/dashboard").json()["cards"])


def test_card_is_in_portuguese_by_default(viewer_client: Any) -> None:
    cards = {c["id"]: c for c in viewer_client.get("/api/dashboard").json()["cards"]}
    assert cards["cache"]["title"] == "Migração de cache"
