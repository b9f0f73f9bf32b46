"""What callers of flags.is_enabled see: states, keys, overrides, unknown names."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from cachemig import flags
from cachemig.exceptions import UnknownFlagError
from cachemig.models import FeatureFlag
from core.context import correlation_scope, user_scope
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db

FLAG = "MIGRATION_USE_NEW_CACHE"


def keys_on(name: str, percent: int, count: int = 2000) -> set[str]:
    return {k for k in (f"k{i}" for i in range(count)) if flags.normalized_value(name, k) <= percent}


def test_flags_of_record_start_off_except_metrics() -> None:
    assert {n: flags.is_enabled(n, "anyone") for n in flags.FLAGS_OF_RECORD} == {
        "TWS_UNIFIED_V2_ENABLED": False,
        "MIGRATION_USE_NEW_CACHE": False,
        "MIGRATION_USE_NEW_RATE_LIMIT": False,
        "MIGRATION_ENABLE_METRICS": True,
    }
    plans = dict(FeatureFlag.objects.values_list("name", "rollout_plan"))
    assert plans["TWS_UNIFIED_V2_ENABLED"] == "5,25,50,100"
    assert plans[FLAG] == "10,25,50,100"


def test_a_percentage_flag_is_on_exactly_for_the_keys_in_its_buckets() -> None:
    at_percent(FLAG, 25)
    expected = keys_on(FLAG, 25)
    assert {k for k in (f"k{i}" for i in range(2000)) if flags.is_enabled(FLAG, k)} == expected
    assert 350 < len(expected) < 650


def test_raising_the_percentage_keeps_every_key_that_was_in() -> None:
    at_percent(FLAG, 10)
    before = {k for k in (f"k{i}" for i in range(2000)) if flags.is_enabled(FLAG, k)}
    at_percent(FLAG, 50)
    after = {k for k in (f"k{i}" for i in range(2000)) if flags.is_enabled(FLAG, k)}
    assert before < after


def test_the_group_id_decides_the_buckets() -> None:
    FeatureFlag.objects.filter(name=FLAG).update(group_id="cache-cohort")
    at_percent(FLAG, 30)
    assert {k for k in (f"k{i}" for i in range(1000)) if flags.is_enabled(FLAG, k)} == keys_on("cache-cohort", 30, 1000)


def test_without_a_key_the_current_user_is_bucketed_else_the_correlation_id() -> None:
    at_percent(FLAG, 50)
    user_in = next(k for k in (str(i) for i in range(100)) if flags.normalized_value(FLAG, k) <= 50)
    user_out = next(k for k in (str(i) for i in range(100)) if flags.normalized_value(FLAG, k) > 50)
    cid_in = next(f"c{i}" for i in range(100) if flags.normalized_value(FLAG, f"c{i}") <= 50)
    with correlation_scope(cid_in):
        with user_scope(user_in):
            assert flags.is_enabled(FLAG)
        with user_scope(user_out):
            assert not flags.is_enabled(FLAG)
        assert flags.is_enabled(FLAG)  # no user: the correlation id decides


def test_without_any_key_a_percentage_flag_is_off() -> None:
    at_percent(FLAG, 99)
    assert not flags.is_enabled(FLAG)


@pytest.mark.parametrize(("db_percent", "env", "expected"), [(100, "false", False), (0, "true", True), (0, "1", True)])
def test_the_environment_override_beats_the_database(
    monkeypatch: pytest.MonkeyPatch, db_percent: int, env: str, expected: bool
) -> None:
    at_percent(FLAG, db_percent)
    assert flags.is_enabled(FLAG, "someone") is (db_percent == 100)
    monkeypatch.setenv(f"APP_{FLAG}", env)
    assert flags.env_override(FLAG) == ("on" if expected else "off")
    assert [flags.is_enabled(FLAG, f"k{i}") for i in range(50)] == [expected] * 50


def test_an_unparseable_override_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_MIGRATION_ENABLE_METRICS", "maybe")
    assert flags.env_override("MIGRATION_ENABLE_METRICS") == "unset"
    assert flags.is_enabled("MIGRATION_ENABLE_METRICS")


def test_an_unknown_flag_raises_in_tests() -> None:
    with pytest.raises(UnknownFlagError, match="NO_SUCH_FLAG"):
        flags.is_enabled("NO_SUCH_FLAG")


def test_an_unknown_flag_logs_an_error_and_is_off_in_production(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHEMIG_STRICT_FLAGS = False
    with caplog.at_level(logging.ERROR, logger="resync.flags"):
        assert flags.is_enabled("NO_SUCH_FLAG", "k") is False
    assert "unknown feature flag NO_SUCH_FLAG" in caplog.text


def test_a_flag_of_record_without_its_row_falls_back_to_its_default() -> None:
    FeatureFlag.objects.filter(name__in=["MIGRATION_ENABLE_METRICS", FLAG]).delete()
    flags.invalidate()
    assert flags.is_enabled("MIGRATION_ENABLE_METRICS")
    assert not flags.is_enabled(FLAG, "k")


def test_a_change_in_this_process_is_seen_at_once() -> None:
    assert not flags.is_enabled(FLAG, "k1")
    at_percent(FLAG, 100)
    assert flags.is_enabled(FLAG, "k1")


@pytest.mark.django_db(transaction=True)
async def test_async_callers_evaluate_without_touching_the_orm_on_the_event_loop() -> None:
    # The first evaluation on an event loop loads the flags on a helper thread.
    assert flags.is_enabled("MIGRATION_ENABLE_METRICS")
    assert not flags.is_enabled("TWS_UNIFIED_V2_ENABLED", "k")


@pytest.mark.usefixtures("db")
@hyp_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    keys=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=60, unique=True),
    p=st.integers(0, 100),
    q=st.integers(0, 100),
)
def test_is_enabled_keeps_every_key_when_the_percentage_grows(keys: list[str], p: int, q: int) -> None:
    low, high = sorted((p, q))
    FeatureFlag.objects.filter(name=FLAG).update(state="percentage", percent=low)
    flags.invalidate()
    at_low = {k for k in keys if flags.is_enabled(FLAG, k)}
    FeatureFlag.objects.filter(name=FLAG).update(state="percentage", percent=high)
    flags.invalidate()
    at_high = {k for k in keys if flags.is_enabled(FLAG, k)}
    assert at_low <= at_high
    assert at_low == {k for k in keys if low > 0 and flags.normalized_value(FLAG, k) <= low}


def test_outside_tests_overrides_are_read_once_per_refresh_and_answers_stay_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cachemig import conf

    monkeypatch.setattr(conf, "live_env_overrides", lambda: False)
    at_percent(FLAG, 30)
    keys = [f"k{i}" for i in range(500)]
    assert {k for k in keys if flags.is_enabled(FLAG, k)} == keys_on(FLAG, 30, 500)
    assert flags.is_enabled("MIGRATION_ENABLE_METRICS", "k")
    assert not flags.is_enabled("TWS_UNIFIED_V2_ENABLED", "k")
    with user_scope(next(k for k in keys if flags.normalized_value(FLAG, k) <= 30)):
        assert flags.is_enabled(FLAG)
    assert not flags.is_enabled(FLAG)  # no key at all
    monkeypatch.setenv(f"APP_{FLAG}", "false")
    assert any(flags.is_enabled(FLAG, k) for k in keys)  # the process has not re-read its flags yet
    flags.invalidate()  # what the next refresh (or a restart) does
    assert not any(flags.is_enabled(FLAG, k) for k in keys)
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    flags.invalidate()
    assert flags.is_enabled("TWS_UNIFIED_V2_ENABLED", "k")
