"""System checks: invalid settings and flags used in code but missing in the database."""

from __future__ import annotations

from typing import Any

import pytest

from cachemig.checks import check_flags_in_database, check_settings
from cachemig.models import FeatureFlag
from cachemig.selectors import flags_referenced_in_code


def test_invalid_intervals_are_reported(settings: Any) -> None:
    settings.CACHEMIG_FLAGS_REFRESH_SECONDS = 30
    settings.CACHEMIG_GUARD_INTERVAL_SECONDS = 7
    assert [e.id for e in check_settings()] == ["cachemig.E001", "cachemig.E002"]


def test_default_settings_pass() -> None:
    assert check_settings() == []


def test_literal_flag_names_passed_to_the_flag_api_are_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import cachemig.selectors as selectors

    source = tmp_path / "client.py"
    source.write_text(
        "from cachemig import flags\n"
        "if flags.is_enabled('TWS_SHINY', key=job):\n"
        "    pass\n"
        'flags.register_guard(\n    "CACHE_SHINY", guard)\n'
        "flags.is_enabled(name)  # not a literal: not reported\n"
    )
    monkeypatch.setattr(selectors, "_source_files", lambda: [source])
    assert flags_referenced_in_code() == {"TWS_SHINY": [f"{source}:2"], "CACHE_SHINY": [f"{source}:4"]}


@pytest.mark.django_db
def test_a_flag_used_in_code_but_missing_in_the_database_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import cachemig.selectors as selectors

    monkeypatch.setattr(
        selectors,
        "flags_referenced_in_code",
        lambda: {"MIGRATION_USE_NEW_CACHE": ["tws/client.py:3"], "TWS_SHINY": ["tws/client.py:9"]},
    )
    FeatureFlag.objects.filter(name="MIGRATION_USE_NEW_CACHE").delete()
    messages = check_flags_in_database(databases=["default"])
    assert [m.id for m in messages] == ["cachemig.W001", "cachemig.W001"]
    assert "TWS_SHINY is used in code (tws/client.py:9)" in messages[1].msg
