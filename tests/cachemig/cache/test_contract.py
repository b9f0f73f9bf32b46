"""The migrating cache behaves as Django documents for its built-in backends, at every rollout stage.

Each test runs for locmem->locmem and locmem->Redis, with the flag off, at 50 % and at 100 %.
"""

from __future__ import annotations

import pickle
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import CacheKeyWarning
from django.core.cache.backends.base import BaseCache

from cachemig.backends import MigratingCache
from cachemig.backends.sides import remaining_timeout

STAGES = [0, 50, 100]
KEYS = [f"key-{n}" for n in range(12)]  # at 50 % these fall on both sides


VARIANTS = {"dual write": {}, "single write": {"DUAL_WRITE": False}, "warm on miss": {"WARM_ON_MISS": True}}


@pytest.fixture(
    params=[pytest.param(("locmem", percent, "dual write"), id=f"locmem-{percent}") for percent in STAGES]
    + [
        pytest.param(("redis", percent, "dual write"), id=f"redis-{percent}", marks=pytest.mark.redis)
        for percent in STAGES
    ]
    + [pytest.param(("locmem", 50, "single write"), id="locmem-50-single-write")]
    + [pytest.param(("locmem", 50, "warm on miss"), id="locmem-50-warm-on-miss")]
)
def mcache(request: pytest.FixtureRequest, build_cache: Callable[..., MigratingCache], flag_percent: Any) -> Any:
    """Return a migrating cache for one (new side, stage, write mode) triple."""
    new, percent, variant = request.param
    url = request.getfixturevalue("cache_redis_url") if new == "redis" else "locmem"
    flag_percent(percent)
    cache = build_cache(url, TIMEOUT=120, options=VARIANTS[variant])
    yield cache
    cache.clear()


def routed_side(cache: MigratingCache, key: str, version: int | None = None) -> BaseCache:
    made = cache.make_key(key, version=version)
    return cache.new if cache.routes_to_new(made) else cache.legacy


class Unequal:
    """A value without __eq__: equal copies compare by identity."""

    def __init__(self, n: int) -> None:
        self.n = n


# --- get / set ---------------------------------------------------------------


def test_get_of_a_missing_key_returns_the_default(mcache: MigratingCache) -> None:
    assert mcache.get("nope") is None
    assert mcache.get("nope", "fallback") == "fallback"


@pytest.mark.parametrize(
    "value", ["text", 42, 3.5, b"\x00bytes", ["a", 1], {"nested": {"x": [1, 2]}}, None, True, 2**70]
)
def test_set_then_get_returns_the_value(mcache: MigratingCache, value: Any) -> None:
    for key in KEYS:
        mcache.set(key, value)
    for key in KEYS:
        assert mcache.get(key, "missing") == value


def test_a_stored_none_is_a_hit_not_a_miss(mcache: MigratingCache) -> None:
    mcache.set("none", None)
    assert mcache.get("none", "missing") is None
    assert mcache.has_key("none")


def test_an_object_round_trips_by_pickle(mcache: MigratingCache) -> None:
    mcache.set("obj", Unequal(7))
    assert mcache.get("obj").n == 7


def test_an_unpicklable_value_raises_like_locmem(mcache: MigratingCache) -> None:
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        mcache.set("fn", lambda: 1)


def test_set_overwrites(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, "one")
        mcache.set(key, "two")
        assert mcache.get(key) == "two"


# --- timeouts ----------------------------------------------------------------


def test_timeout_none_keeps_the_key_forever(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, "v", timeout=None)
        assert remaining_timeout(routed_side(mcache, key), mcache.make_key(key), fallback=-5) is None
        assert mcache.get(key) == "v"


@pytest.mark.parametrize("timeout", [0, -1])
def test_timeout_zero_or_negative_expires_at_once(mcache: MigratingCache, timeout: int) -> None:
    for key in KEYS:
        mcache.set(key, "old")
        mcache.set(key, "v", timeout=timeout)
        assert mcache.get(key) is None
        assert not mcache.has_key(key)


def test_no_timeout_means_the_caches_default_timeout(mcache: MigratingCache) -> None:
    assert mcache.default_timeout == 120
    for key in KEYS:
        mcache.set(key, "v")
        left = remaining_timeout(routed_side(mcache, key), mcache.make_key(key), fallback=-5)
        assert left is not None
        assert 100 <= left <= 120


def test_an_explicit_timeout_is_applied(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, "v", timeout=30)
        left = remaining_timeout(routed_side(mcache, key), mcache.make_key(key), fallback=-5)
        assert left is not None
        assert 20 <= left <= 30


def test_a_short_timeout_expires(mcache: MigratingCache) -> None:
    mcache.set_many(dict.fromkeys(KEYS, "v"), timeout=1)
    time.sleep(1.1)
    assert mcache.get_many(KEYS) == {}


# --- add ---------------------------------------------------------------------


def test_add_stores_only_when_absent(mcache: MigratingCache) -> None:
    for key in KEYS:
        assert mcache.add(key, "first") is True
        assert mcache.add(key, "second") is False
        assert mcache.get(key) == "first"


def test_add_with_timeout_zero_stores_nothing_visible(mcache: MigratingCache) -> None:
    assert mcache.add("zero", "v", timeout=0) is True
    assert mcache.get("zero") is None


def test_add_after_expiry_stores_again(mcache: MigratingCache) -> None:
    mcache.set("gone", "v", timeout=0)
    assert mcache.add("gone", "again") is True
    assert mcache.get("gone") == "again"


# --- delete / touch / has_key --------------------------------------------------


def test_delete_says_whether_it_deleted(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, "v")
        assert mcache.delete(key) is True
        assert mcache.get(key) is None
        assert mcache.delete(key) is False


def test_touch_updates_the_expiry_of_an_existing_key(mcache: MigratingCache) -> None:
    for key in KEYS:
        assert mcache.touch(key, 10) is False
        mcache.set(key, "v", timeout=10)
        assert mcache.touch(key, None) is True
        assert remaining_timeout(routed_side(mcache, key), mcache.make_key(key), fallback=-5) is None
        assert mcache.touch(key, 0) is True
        assert mcache.get(key) is None


def test_has_key_and_in(mcache: MigratingCache) -> None:
    mcache.set("here", "v")
    assert mcache.has_key("here")
    assert "here" in mcache
    assert not mcache.has_key("absent")
    assert "absent" not in mcache


# --- many ----------------------------------------------------------------------


def test_get_many_returns_only_found_keys_in_asked_order(mcache: MigratingCache) -> None:
    assert mcache.set_many({key: n for n, key in enumerate(KEYS)}) == []
    asked = ["absent", *reversed(KEYS)]
    got = mcache.get_many(asked)
    assert list(got) == list(reversed(KEYS))
    assert got == {key: n for n, key in enumerate(KEYS)}
    assert mcache.get_many([]) == {}


def test_set_many_with_timeout_and_version(mcache: MigratingCache) -> None:
    assert mcache.set_many({"a": 1, "b": 2}, timeout=None, version=3) == []
    assert mcache.get_many(["a", "b"], version=3) == {"a": 1, "b": 2}
    assert mcache.get_many(["a", "b"]) == {}
    assert mcache.set_many({}) == []


def test_delete_many(mcache: MigratingCache) -> None:
    mcache.set_many(dict.fromkeys(KEYS, 1))
    mcache.delete_many(KEYS[:6])
    mcache.delete_many([])
    assert sorted(mcache.get_many(KEYS)) == sorted(KEYS[6:])


# --- incr / decr -------------------------------------------------------------------


def test_incr_and_decr(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, 10)
        assert mcache.incr(key) == 11
        assert mcache.incr(key, 5) == 16
        assert mcache.decr(key) == 15
        assert mcache.decr(key, 10) == 5
        assert mcache.get(key) == 5


def test_incr_of_a_missing_key_raises_value_error(mcache: MigratingCache) -> None:
    for key in KEYS:
        with pytest.raises(ValueError):
            mcache.incr(key)
        with pytest.raises(ValueError):
            mcache.decr(key)


def test_incr_keeps_working_after_a_flag_rollback(mcache: MigratingCache, flag_percent: Any) -> None:
    for key in KEYS:
        mcache.set(key, 1)
        mcache.incr(key, 2)
    flag_percent(0)
    # Dual write keeps the counter on legacy; single write invalidates it there: a miss, never a stale 1.
    allowed = (3,) if mcache.options.dual_write else (3, None)
    for key in KEYS:
        assert mcache.get(key) in allowed


# --- get_or_set ------------------------------------------------------------------


def test_get_or_set(mcache: MigratingCache) -> None:
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return "computed"

    assert mcache.get_or_set("gos", compute) == "computed"
    assert mcache.get_or_set("gos", compute) == "computed"
    assert len(calls) == 1
    assert mcache.get_or_set("plain", "value", timeout=None) == "value"
    assert mcache.get_or_set("none", None) is None


# --- clear / close -------------------------------------------------------------


def test_clear_empties_both_sides(mcache: MigratingCache) -> None:
    mcache.set_many(dict.fromkeys(KEYS, 1))
    mcache.clear()
    assert mcache.get_many(KEYS) == {}
    assert mcache.legacy.get_many([mcache.make_key(k) for k in KEYS]) == {}
    assert mcache.new.get_many([mcache.make_key(k) for k in KEYS]) == {}


def test_close_leaves_the_cache_usable(mcache: MigratingCache) -> None:
    mcache.set("k", 1)
    mcache.close()
    assert mcache.get("k") == 1


# --- versions, prefixes, key functions, key warnings -------------------------------------


def test_versions_are_separate_keys(mcache: MigratingCache) -> None:
    mcache.set("v", "one", version=1)
    mcache.set("v", "two", version=2)
    assert mcache.get("v") == "one"
    assert mcache.get("v", version=2) == "two"
    assert mcache.make_key("v", version=2) == ":2:v"


def test_incr_and_decr_version_move_the_value(mcache: MigratingCache) -> None:
    for key in KEYS:
        mcache.set(key, "val")
        assert mcache.incr_version(key) == 2
        assert mcache.get(key) is None
        assert mcache.get(key, version=2) == "val"
        assert mcache.decr_version(key, version=2) == 1
        assert mcache.get(key) == "val"
    with pytest.raises(ValueError):
        mcache.incr_version("absent")


def test_version_setting_is_the_default_version(build_cache: Any, flag_percent: Any) -> None:
    flag_percent(50)
    v2 = build_cache(VERSION=2)
    v2.set("k", "in v2")
    assert v2.get("k") == "in v2"
    assert v2.get("k", version=1) is None
    assert v2.make_key("k") == ":2:k"


def test_key_prefix_and_key_function(build_cache: Any, flag_percent: Any) -> None:
    flag_percent(50)
    prefixed = build_cache(KEY_PREFIX="pfx")
    custom = build_cache(KEY_FUNCTION=lambda key, prefix, version: f"custom-{version}-{key}")
    assert prefixed.make_key("k") == "pfx:1:k"
    assert custom.make_key("k", version=4) == "custom-4-k"
    prefixed.set("k", "p")
    custom.set("k", "c")
    assert prefixed.get("k") == "p"
    assert custom.get("k") == "c"
    assert "pfx:1:k" in {*prefixed.legacy._cache}  # type: ignore[attr-defined]


def test_custom_key_function_by_dotted_path(build_cache: Any, flag_percent: Any) -> None:
    flag_percent(100)
    cache = build_cache(KEY_FUNCTION="tests.cachemig.cache.test_contract.reversed_key")
    cache.set("abc", 1)
    assert cache.make_key("abc") == "cba"
    assert cache.new.get("cba") == 1


def reversed_key(key: str, prefix: str, version: int) -> str:
    del prefix, version
    return key[::-1]


@pytest.mark.parametrize("key", ["a" * 251, "has space", "tab\tkey"])
def test_bad_keys_warn_once_like_builtin_backends(mcache: MigratingCache, key: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mcache.set(key, "v")
        assert mcache.get(key) == "v"
    key_warnings = [w for w in caught if issubclass(w.category, CacheKeyWarning)]
    assert len(key_warnings) == 2  # one per call, never one per side
    assert "memcached" in str(key_warnings[0].message)


# --- async twins ----------------------------------------------------------------------


async def test_async_twins_behave_like_the_sync_methods(mcache: MigratingCache) -> None:
    assert await mcache.aget("a") is None
    await mcache.aset("a", 1)
    assert await mcache.aget("a") == 1
    assert await mcache.aadd("a", 2) is False
    assert await mcache.aadd("b", 2) is True
    assert await mcache.ahas_key("b")
    assert await mcache.aincr("a", 4) == 5
    assert await mcache.adecr("a") == 4
    assert await mcache.atouch("a", None) is True
    assert await mcache.aget_many(["a", "b", "c"]) == {"a": 4, "b": 2}
    assert await mcache.aset_many({"c": 3, "d": 4}, timeout=60) == []
    assert await mcache.aget_or_set("e", lambda: 5) == 5
    assert await mcache.adelete("e") is True
    assert await mcache.adelete("e") is False
    await mcache.adelete_many(["c", "d"])
    assert await mcache.aget_many(["c", "d"]) == {}
    assert await mcache.aincr_version("a") == 2
    assert await mcache.aget("a", version=2) == 4
    assert await mcache.adecr_version("a", version=2) == 1
    with pytest.raises(ValueError):
        await mcache.aincr("absent")
    await mcache.aclear()
    assert await mcache.aget("a") is None
    await mcache.aclose()


# --- Django itself through the cache ------------------------------------------------


def test_cache_sessions_round_trip(mcache: MigratingCache) -> None:
    from django.contrib.sessions.backends.cache import SessionStore

    store = SessionStore()
    store._cache = mcache  # SessionStore takes caches[SESSION_CACHE_ALIAS]; use the cache under test
    store["user"] = "operator"
    store.save()
    again = SessionStore(session_key=store.session_key)
    again._cache = mcache
    assert again["user"] == "operator"
    store.delete()
    assert not mcache.has_key(store.cache_key)
