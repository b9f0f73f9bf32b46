"""Routing, dual write, rollback, shadow reads, warming, figures and adapters of the migrating cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import REGISTRY

from cachemig.backends import MigratingCache
from cachemig.backends import guard as cache_guard

KEYS = [f"user:{n}" for n in range(40)]


def made(cache: MigratingCache, key: str) -> str:
    return cache.make_key(key)


def test_the_fifty_percent_stage_splits_keys_and_keeps_each_key_in_its_bucket(
    build_cache: Any, flag_percent: Any
) -> None:
    cache = build_cache()
    flag_percent(50)
    routed = {key: cache.routes_to_new(made(cache, key)) for key in KEYS}
    assert 5 < sum(routed.values()) < 35
    flag_percent(75)
    assert all(cache.routes_to_new(made(cache, key)) for key in KEYS if routed[key])


def test_dual_write_puts_every_key_on_both_sides(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    flag_percent(50)
    for key in KEYS:
        cache.set(key, key.upper())
    for key in KEYS:
        assert cache.legacy.get(made(cache, key)) == key.upper()
        assert cache.new.get(made(cache, key)) == key.upper()


def test_a_rollback_never_serves_stale_data(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    flag_percent(100)
    cache.set_many(dict.fromkeys(KEYS, "v1"))
    for key in KEYS:
        cache.set(key, "v2")
        cache.incr_version(key)
    cache.delete(KEYS[0], version=2)
    flag_percent(0)
    assert cache.get(KEYS[0], version=2) is None
    assert all(cache.get(key, version=2) == "v2" for key in KEYS[1:])


def test_reads_come_from_the_routed_side(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    cache.legacy.set(made(cache, "k"), "from legacy")
    cache.new.set(made(cache, "k"), "from new")
    flag_percent(0)
    assert cache.get("k") == "from legacy"
    flag_percent(100)
    assert cache.get("k") == "from new"
    stats = cache.get_stats()
    assert stats["hits"] == {"legacy": 1, "new": 1}


def test_without_dual_write_the_other_side_is_invalidated(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(options={"DUAL_WRITE": False})
    flag_percent(0)
    cache.set("k", "old")
    cache.new.set(made(cache, "k"), "stale on new")
    cache.set("k", "legacy only")
    assert cache.new.get(made(cache, "k")) is None
    flag_percent(100)
    cache.set("k", "new only")
    assert cache.legacy.get(made(cache, "k")) is None
    assert cache.get("k") == "new only"
    flag_percent(0)
    assert cache.get("k") is None  # a miss, never the stale "legacy only"


def test_warm_on_miss_copies_legacy_into_new_with_its_remaining_timeout(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(options={"WARM_ON_MISS": True})
    cache.legacy.set(made(cache, "old"), "before the migration", 50)
    flag_percent(100)
    assert cache.get("old") == "before the migration"
    assert cache.new.get(made(cache, "old")) == "before the migration"
    from cachemig.backends.sides import remaining_timeout

    left = remaining_timeout(cache.new, made(cache, "old"), fallback=None)
    assert left is not None
    assert left <= 50
    assert cache.add("old", "other") is False
    cache.legacy.set(made(cache, "counter"), 1)
    assert cache.incr("counter") == 2


def test_without_warming_a_new_side_miss_is_a_miss(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    cache.legacy.set(made(cache, "old"), "before")
    flag_percent(100)
    assert cache.get("old") is None
    assert cache.get_stats()["misses"]["new"] == 1


def test_shadow_reads_count_mismatches_without_changing_the_answer(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(options={"SHADOW_SAMPLE_RATE": 1.0})
    flag_percent(100)
    cache.set("same", {"a": 1})
    cache.new.set(made(cache, "differs"), "new value")
    cache.legacy.set(made(cache, "differs"), "legacy value")
    cache.legacy.set(made(cache, "only-legacy"), 1)
    assert cache.get("same") == {"a": 1}
    assert cache.get("differs") == "new value"
    assert cache.get("only-legacy") is None
    shadow = cache.get_stats()["shadow"]
    assert shadow["compared"] == 3
    assert shadow["mismatches"] == {"value": 1, "missing_new": 1, "missing_legacy": 0}
    assert {entry["key"] for entry in shadow["recent"]} == {made(cache, "differs"), made(cache, "only-legacy")}


def test_get_many_shadow_reads_compare_each_sampled_key(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache(options={"SHADOW_SAMPLE_RATE": 1.0})
    flag_percent(100)
    cache.set("same", 1)
    cache.new.set(made(cache, "differs"), "new value")
    cache.legacy.set(made(cache, "differs"), "legacy value")
    cache.legacy.set(made(cache, "only-legacy"), 2)
    assert cache.get_many(["same", "differs", "only-legacy", "nowhere"]) == {"same": 1, "differs": "new value"}
    shadow = cache.get_stats()["shadow"]
    assert shadow["compared"] == 4
    assert shadow["mismatches"] == {"value": 1, "missing_new": 1, "missing_legacy": 0}


def test_shadow_reads_compare_objects_without_eq_by_content(build_cache: Any, flag_percent: Any) -> None:
    from tests.cachemig.cache.test_contract import Unequal

    cache = build_cache(options={"SHADOW_SAMPLE_RATE": 1.0})
    flag_percent(0)
    cache.set("obj", Unequal(3))
    cache.get("obj")
    assert cache.get_stats()["shadow"]["mismatches_total"] == 0


def test_shadow_rate_zero_never_reads_the_other_side(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    flag_percent(100)
    for key in KEYS:
        cache.get(key)
    assert cache.get_stats()["shadow"]["compared"] == 0


def test_prometheus_exposes_the_figures_under_the_design_names(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    flag_percent(100)
    cache.set("k", 1)
    cache.get("k")
    cache.get("absent")
    labels = {"cache": cache.name}
    assert REGISTRY.get_sample_value("migration_new_hits_total", labels) == 1
    assert REGISTRY.get_sample_value("migration_legacy_hits_total", labels) == 0
    assert REGISTRY.get_sample_value("migration_cache_hit_rate", {**labels, "side": "new"}) == 0.5
    count = REGISTRY.get_sample_value(
        "migration_cache_operation_seconds_count", {**labels, "side": "new", "operation": "get"}
    )
    assert count == 2
    assert REGISTRY.get_sample_value("migration_cache_circuit_state", labels) == 0


def test_metrics_flag_off_stops_latency_collection(build_cache: Any, flag_percent: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("APP_MIGRATION_ENABLE_METRICS", "false")
    cache = build_cache()
    flag_percent(100)
    cache.set("k", 1)
    cache.get("k")
    stats = cache.get_stats()
    assert stats["latency"] == {}
    assert stats["hits"]["new"] == 1  # the guard's figures are kept regardless
    assert REGISTRY.get_sample_value("migration_new_hits_total", {"cache": cache.name}) is None


def test_adapters_size_stop_shutdown_and_stats(build_cache: Any, flag_percent: Any) -> None:
    cache = build_cache()
    flag_percent(50)
    cache.set_many(dict.fromkeys(KEYS, 1))
    assert cache.size() == len(KEYS)
    detail = cache.size_detail()
    assert detail["legacy"]["keys"] == len(KEYS)
    assert "locmem" in detail["new"]["reason"]
    assert cache.get_detailed_metrics().keys() == cache.get_stats().keys()
    assert cache.get_stats()["legacy_backend"] == "django.core.cache.backends.locmem.LocMemCache"
    cache.stop()
    cache.shutdown()
    assert cache.get(KEYS[0]) == 1


def test_size_is_none_with_a_reason_when_no_side_can_tell(build_cache: Any, settings: Any) -> None:
    cache = build_cache()
    settings.CACHES = {**settings.CACHES, "dummy-a": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    from cachemig.backends.sides import build_side

    cache.legacy = build_side("dummy-a")
    cache.new = build_side("dummy-a")
    assert cache.size() is None
    assert "cannot count" in cache.size_detail()["legacy"]["reason"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"SHADOW_SAMPLE_RATE": 2}, "SHADOW_SAMPLE_RATE"),
        ({"NOT_AN_OPTION": 1}, "unknown option"),
        ({"BREAKER_FAILURE_THRESHOLD": "many"}, "BREAKER_FAILURE_THRESHOLD"),
        ({"GUARD_WINDOW_SECONDS": 0}, "GUARD_WINDOW_SECONDS"),
    ],
)
def test_bad_options_fail_with_a_message_naming_them(build_cache: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        build_cache(options=options)


def test_an_unknown_alias_fails_clearly(settings: Any) -> None:
    from django.core.cache.backends.base import InvalidCacheBackendError

    with pytest.raises(InvalidCacheBackendError, match="no cache alias"):
        MigratingCache("x", {"OPTIONS": {"LEGACY_ALIAS": "legacy", "NEW_ALIAS": "nowhere"}})


def test_the_configured_default_cache_is_the_migrating_cache() -> None:
    cache = caches["default"]
    assert isinstance(cache, MigratingCache)
    cache.set("settings-check", 1)
    assert caches["legacy"].get("settings-check") == 1  # same LOCATION, same key shape as the alias


def test_building_a_migrating_cache_registers_its_guard_again_if_it_was_replaced(build_cache: Any) -> None:
    from cachemig import flags

    flags.register_guard("MIGRATION_USE_NEW_CACHE", lambda: flags.GuardReport(ok=False, reason="stand-in"))
    build_cache()
    assert flags.guard_for("MIGRATION_USE_NEW_CACHE") is cache_guard.migration_cache_guard
    report = flags.evaluate_guard("MIGRATION_USE_NEW_CACHE")
    assert report is not None
    assert report.ok, report.reason


def test_health_component_reports_the_circuit(flag_percent: Any) -> None:
    report = cache_guard.health_check()
    assert report["status"] == "ok"
    assert report["detail"]["circuit"] == "closed"  # type: ignore[index]


def test_the_start_up_check_names_a_missing_alias(settings: Any) -> None:
    cache_guard.check_cache_settings()
    settings.CACHES = {
        **settings.CACHES,
        "broken": {"BACKEND": "cachemig.backends.MigratingCache", "OPTIONS": {"NEW_ALIAS": "nowhere"}},
    }
    with pytest.raises(ImproperlyConfigured, match="'nowhere'"):
        cache_guard.check_cache_settings()
