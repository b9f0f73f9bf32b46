"""Through real views: a dead new cache never turns into an error page, and /metrics shows the fallbacks."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.test import Client

from tests.cachemig.cache.conftest import FAST_FAIL, LOCMEM, REDIS, free_port


def test_views_keep_answering_with_a_dead_new_cache(settings: Any, flag_percent: Any, db: None) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "cachemig.backends.MigratingCache",
            "LOCATION": "views-under-test",
            "OPTIONS": {"LEGACY_ALIAS": "legacy", "NEW_ALIAS": "new"},
        },
        "legacy": {"BACKEND": LOCMEM, "LOCATION": "views-legacy"},
        "new": {"BACKEND": REDIS, "LOCATION": f"redis://127.0.0.1:{free_port()}/0", "OPTIONS": FAST_FAIL},
    }
    flag_percent(100)
    client = Client()
    for _ in range(3):
        response = client.get("/health/detailed")
        body = response.json()
        assert body["components"]["cache:default"]["status"] == "ok", body
    stats = caches["default"].get_stats()
    assert stats["fallbacks_total"] > 0
    assert stats["circuit"]["state"] == "open"
    metrics = client.get("/metrics").content.decode()
    assert 'migration_fallbacks_total{cache="views-under-test"' in metrics
    assert 'migration_cache_circuit_state{cache="views-under-test"} 1.0' in metrics
