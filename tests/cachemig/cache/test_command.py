"""``manage.py cachemig status|warm|compare`` on the configured migrating cache."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command

from cachemig.backends import MigratingCache


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("cachemig", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def default_cache() -> Any:
    cache = caches["default"]
    assert isinstance(cache, MigratingCache)
    cache.clear()
    yield cache
    cache.clear()


def test_status_shows_figures_and_the_guard(default_cache: MigratingCache, flag_percent: Any) -> None:
    flag_percent(100)
    default_cache.set("k", 1)
    default_cache.get("k")
    out, _ = run("status", "--json")
    status = json.loads(out)
    assert status["stats"]["hits"]["new"] >= 1
    assert status["guard"]["ok"] is True
    text, _ = run("status")
    assert "circuit:" in text


def test_warm_copies_legacy_keys_missing_from_new(default_cache: MigratingCache) -> None:
    default_cache.legacy.set(default_cache.make_key("a"), "A", 40)
    default_cache.legacy.set(default_cache.make_key("b"), "B", None)
    default_cache.new.set(default_cache.make_key("b"), "B")
    dry, _ = run("warm", "--dry-run", "--json")
    assert json.loads(dry)["copied"] == 1
    assert default_cache.new.get(default_cache.make_key("a")) is None
    out, err = run("warm", "--json")
    report = json.loads(out)
    assert (report["copied"], report["already_there"]) == (1, 1)
    assert default_cache.new.get(default_cache.make_key("a")) == "A"
    assert "private to each process" in err


def test_compare_reports_mismatches(default_cache: MigratingCache) -> None:
    default_cache.set("same", 1)
    default_cache.legacy.set(default_cache.make_key("differs"), "old")
    default_cache.new.set(default_cache.make_key("differs"), "new")
    default_cache.legacy.set(default_cache.make_key("legacy-only"), 1)
    out, _ = run("compare", "--json", "--seed", "1")
    report = json.loads(out)
    assert report["sampled"] == 3
    assert report["same"] == 1
    assert report["mismatches"] == {"value": 1, "missing_new": 1, "missing_legacy": 0}


def test_an_alias_that_is_not_migrating_is_refused() -> None:
    with pytest.raises(CommandError, match="not a MigratingCache"):
        run("status", "--alias", "legacy")


@pytest.mark.redis
def test_warm_and_compare_against_redis_skip_foreign_keys(build_cache: Any, cache_redis_url: str) -> None:
    import redis

    from cachemig.backends.operations import cache_compare, cache_warm
    from cachemig.backends.sides import remaining_timeout

    cache = build_cache(cache_redis_url)
    redis.Redis.from_url(cache_redis_url).set("huey.queue", "not a cache key")
    cache.legacy.set(cache.make_key("a"), "A", 30)
    cache.legacy.set(cache.make_key("b"), "B", None)
    report = cache_warm(cache=cache)
    assert (report.scanned, report.copied) == (2, 2)
    left = remaining_timeout(cache.new, cache.make_key("a"), fallback=None)
    assert left is not None
    assert 0 < left <= 30
    assert remaining_timeout(cache.new, cache.make_key("b"), fallback=-1) is None
    cache.new.set(cache.make_key("b"), "changed")
    compared = cache_compare(cache=cache, seed=3)
    assert compared.sampled == 2
    assert compared.mismatches["value"] == 1
    assert compared.examples == [{"key": cache.make_key("b"), "kind": "value"}]
