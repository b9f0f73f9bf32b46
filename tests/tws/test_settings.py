"""Settings precedence: env > .env > the connection saved in the admin > defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tws.settings import DEFAULT_BASE_URL, TWSSettings, load_tws_settings

FIELDS = ("TWS_BASE_URL", "TWS_USERNAME", "TWS_PASSWORD", "TWS_TIMEOUT_SECONDS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)


def test_each_layer_overrides_the_one_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "absent.env"
    assert load_tws_settings(env_file=missing, saved={}).base_url == DEFAULT_BASE_URL
    saved = {"base_url": "http://saved:1", "username": "saved-user", "password": "saved-pass-1"}
    from_saved = load_tws_settings(env_file=missing, saved=saved)
    assert (from_saved.base_url, from_saved.username) == ("http://saved:1", "saved-user")
    assert from_saved.password.get_secret_value() == "saved-pass-1"
    dotenv = tmp_path / ".env"
    dotenv.write_text("TWS_BASE_URL=http://dotenv:2\n")
    from_dotenv = load_tws_settings(env_file=dotenv, saved=saved)
    assert from_dotenv.base_url == "http://dotenv:2"
    assert from_dotenv.username == "saved-user"  # layers merge field by field
    monkeypatch.setenv("TWS_BASE_URL", "http://env:3")
    assert load_tws_settings(env_file=dotenv, saved=saved).base_url == "http://env:3"


@pytest.mark.django_db
def test_the_connection_saved_in_the_admin_is_read_with_its_password_decrypted(
    tmp_path: Path, admin_user: object
) -> None:
    from tws.models import TWSConnection
    from tws.services import connection_save

    connection_save(
        acting_user=admin_user,
        name="prod",
        base_url="https://hwa.example:31116",
        username="ops",
        password="db-Pa55-word",
        timeout_seconds=7.5,
    )
    assert "db-Pa55-word" not in TWSConnection.objects.get().password_sealed
    loaded = load_tws_settings(env_file=tmp_path / "absent.env")
    assert (loaded.base_url, loaded.username, loaded.timeout_seconds) == ("https://hwa.example:31116", "ops", 7.5)
    assert loaded.password.get_secret_value() == "db-Pa55-word"


def test_a_bare_settings_object_reads_no_database() -> None:
    assert TWSSettings().base_url == DEFAULT_BASE_URL


def test_invalid_app_settings_are_system_check_errors(settings: object) -> None:
    from tws.apps import check_tws_settings

    settings.TWS_MONITOR_INTERVAL_SECONDS = 0  # type: ignore[attr-defined]
    settings.TWS_SYNC_PAGE_SIZE = 50_000  # type: ignore[attr-defined]
    messages = [e.msg for e in check_tws_settings()]
    assert any("TWS_MONITOR_INTERVAL_SECONDS" in m for m in messages)
    assert any("10000" in m for m in messages)


def test_the_flag_routing_reuse_has_a_default_and_a_negative_one_is_a_check_error(settings: Any) -> None:
    from tws import conf
    from tws.apps import check_tws_settings

    if hasattr(settings, "TWS_FLAG_CACHE_SECONDS"):
        del settings.TWS_FLAG_CACHE_SECONDS
    assert conf.flag_cache_seconds() == 2.0
    assert not [e for e in check_tws_settings() if "TWS_FLAG_CACHE_SECONDS" in e.msg]
    settings.TWS_FLAG_CACHE_SECONDS = -1
    assert [e for e in check_tws_settings() if "TWS_FLAG_CACHE_SECONDS" in e.msg]
