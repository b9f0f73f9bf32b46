"""With the database unreachable, flags of record answer their defaults and overrides still work."""

from __future__ import annotations

import logging

import pytest

from cachemig import flags


def test_flags_of_record_fall_back_to_their_defaults(caplog: pytest.LogCaptureFixture) -> None:
    # pytest-django refuses database access here, as a dead database would.
    with caplog.at_level(logging.WARNING, logger="resync.flags"):
        assert flags.is_enabled("MIGRATION_ENABLE_METRICS")
        assert not flags.is_enabled("MIGRATION_USE_NEW_CACHE", "k")


def test_the_environment_override_works_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_CACHE", "true")
    monkeypatch.setenv("APP_MIGRATION_ENABLE_METRICS", "false")
    assert flags.is_enabled("MIGRATION_USE_NEW_CACHE", "k")
    assert not flags.is_enabled("MIGRATION_ENABLE_METRICS")
