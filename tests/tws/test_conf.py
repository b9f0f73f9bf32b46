"""The tws app settings: invalid values are system check errors an operator understands."""

from __future__ import annotations


def test_invalid_app_settings_are_system_check_errors(settings: object) -> None:
    from tws.apps import check_tws_settings

    settings.TWS_MONITOR_INTERVAL_SECONDS = 0  # type: ignore[attr-defined]
    settings.TWS_SYNC_PAGE_SIZE = 50_000  # type: ignore[attr-defined]
    messages = [e.msg for e in check_tws_settings()]
    assert any("TWS_MONITOR_INTERVAL_SECONDS" in m for m in messages)
    assert any("10000" in m for m in messages)
