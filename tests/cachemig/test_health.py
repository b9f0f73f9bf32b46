"""The flags health component tells where this process's flags come from and which overrides are active."""

from __future__ import annotations

import pytest

from cachemig.health import check_flags

pytestmark = pytest.mark.django_db


def test_flags_read_from_the_database_are_ok_and_overrides_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "off")
    report = check_flags()
    assert report["status"] == "ok"
    assert report["detail"] == "4 flags from the database"
    assert report["env_overrides"] == {"MIGRATION_USE_NEW_RATE_LIMIT": "off"}
