"""The tws app settings: invalid values are system check errors an operator understands."""

from __future__ import annotations

from typing import Any


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
