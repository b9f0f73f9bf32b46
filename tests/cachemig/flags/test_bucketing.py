"""Bucketing is Unleash's gradual rollout: stable, monotonic, and uniform."""

from __future__ import annotations

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cachemig.flags import normalized_value

KEYS = [f"user-{i}" for i in range(100_000)]


def enabled(group_id: str, key: str, percent: int) -> bool:
    return percent > 0 and normalized_value(group_id, key) <= percent


@given(
    group_id=st.text(min_size=1, max_size=40),
    key=st.text(max_size=40),
    p=st.integers(0, 100),
    q=st.integers(0, 100),
)
def test_a_key_enabled_at_p_stays_enabled_at_every_higher_percentage(group_id: str, key: str, p: int, q: int) -> None:
    low, high = sorted((p, q))
    if enabled(group_id, key, low):
        assert enabled(group_id, key, high)


@settings(max_examples=8, deadline=None)
@given(group_id=st.text(min_size=1, max_size=30), percent=st.integers(0, 100))
def test_enabled_fraction_over_100000_keys_is_within_one_point(group_id: str, percent: int) -> None:
    on = sum(1 for key in KEYS if enabled(group_id, key, percent))
    assert abs(on / len(KEYS) * 100 - percent) <= 1.0


def test_enabled_fraction_is_within_one_point_at_every_percentage_for_a_flag_of_record() -> None:
    buckets = [normalized_value("TWS_UNIFIED_V2_ENABLED", key) for key in KEYS]
    for percent in range(101):
        share = sum(1 for b in buckets if b <= percent) / len(KEYS) * 100
        assert abs(share - percent) <= 1.0, percent


@pytest.mark.parametrize(
    ("group_id", "key", "expected"),
    [
        # Published by Unleash as identical across its Node, Java and Go SDKs.
        ("gr1", "123", 73),
        ("groupX", "999", 25),
    ],
)
def test_buckets_match_the_unleash_sdks(group_id: str, key: str, expected: int) -> None:
    assert normalized_value(group_id, key) == expected


@pytest.mark.parametrize(
    ("group_id", "key", "percent"),
    [
        ("TWS_UNIFIED_V2_ENABLED", "operator-7", 5),
        ("MIGRATION_USE_NEW_CACHE", "job:4711", 25),
        ("MIGRATION_USE_NEW_RATE_LIMIT", "ação-ü", 50),
        ("shared-group", "", 10),
    ],
)
def test_known_vectors_agree_with_an_independent_mmh3_computation(group_id: str, key: str, percent: int) -> None:
    expected_bucket = mmh3.hash(f"{group_id}:{key}".encode(), seed=0, signed=False) % 100 + 1
    assert normalized_value(group_id, key) == expected_bucket
    assert enabled(group_id, key, percent) == (expected_bucket <= percent)


def test_zero_percent_is_off_for_every_key_and_hundred_is_on_for_every_key() -> None:
    assert not any(enabled("G", key, 0) for key in KEYS[:5000])
    assert all(enabled("G", key, 100) for key in KEYS[:5000])
