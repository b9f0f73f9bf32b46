"""The TWS password never shows up in logs, reprs, exception messages, API answers or admin HTML."""

from __future__ import annotations

import asyncio
import base64
import logging
import traceback
from typing import Any

import pytest
from django.test import Client
from pydantic import ValidationError

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws.hwa.client import UnifiedTWSClient
from tws.hwa.http import TWSTransport
from tws.hwa.settings import TWSSettings
from tws.simulator.threaded import ThreadedSimulator

FORBIDDEN = (SIM_PASSWORD, base64.b64encode(f"{SIM_USER}:{SIM_PASSWORD}".encode()).decode())


def _assert_clean(text: str, where: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text, f"the TWS password leaked into {where}"


def _describe(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


@pytest.fixture(autouse=True)
def _v2(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0


async def test_no_failure_path_of_the_client_reveals_the_password(
    sim: ThreadedSimulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    settings = fast_settings(sim.url, retry_attempts=2, timeout_seconds=0.2, breaker_consecutive_failures=3)
    client = UnifiedTWSClient(settings)
    seen += [
        repr(client),
        str(client),
        repr(settings),
        str(settings),
        str(settings.model_dump()),
        repr(TWSTransport(settings)),
        repr(client.resilience.breaker),
    ]
    await client.connect()
    job_id = sim.server.plan.jobs[0].id
    scenarios = [
        {"unauthorized_401": 1.0},
        {"error_503": 1.0},
        {"throttle_429": 1.0, "retry_after": 0},
        {"error_500": 1.0},
        {"hang": 1.0, "hang_seconds": 0.5},
        {"reset": 1.0},
    ]
    for faults in scenarios:
        sim.set_faults(**faults)
        for call in (client.get_job(job_id), client.get_system_status(), client.get_jobs(limit=5)):
            try:
                seen.append(repr(await call))
            except Exception as exc:  # every failure path, including CircuitOpenError
                seen.append(_describe(exc))
        await asyncio.sleep(0.35)
    sim.set_faults()
    sim.stop_listening()
    try:
        for _ in range(5):
            try:
                await client.get_job(job_id)
            except Exception as exc:
                seen.append(_describe(exc))
    finally:
        sim.start_listening()
    await client.disconnect()
    try:
        await UnifiedTWSClient(fast_settings("http://127.0.0.1:1", retry_attempts=1)).connect()
    except Exception as exc:
        seen.append(_describe(exc))
    try:
        TWSSettings(password=SIM_PASSWORD, timeout_seconds=-1)
    except ValidationError as exc:
        seen.append(_describe(exc))
    assert any("CircuitOpenError" in s for s in seen)
    assert any("TWSAuthenticationError" in s for s in seen)
    captured = capsys.readouterr()
    for where, text in (
        ("exceptions and reprs", "\n".join(seen)),
        ("logs", caplog.text),
        ("stdout/stderr", captured.out + captured.err),
    ):
        _assert_clean(text, where)
    for record in caplog.records:
        _assert_clean(record.getMessage() + str(record.args) + str(getattr(record, "exc_text", "")), "a log record")


@pytest.mark.django_db
def test_api_answers_and_admin_pages_never_show_the_password(
    sim: ThreadedSimulator, admin_client_: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from audit.testing import recorded_entries
    from tws.hwa.client import forget_tws_clients
    from tws.models import TWSConnection

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "1")
    forget_tws_clients()
    add = admin_client_.post(
        "/admin/tws/twsconnection/add/",
        {
            "name": "sim",
            "base_url": sim.url,
            "username": SIM_USER,
            "new_password": SIM_PASSWORD,
            "verify_tls": "on",
            "timeout_seconds": "2",
            "is_active": "on",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    conn = TWSConnection.objects.get()
    assert conn.password() == SIM_PASSWORD
    pages = [
        admin_client_.get("/admin/tws/twsconnection/"),
        admin_client_.get(f"/admin/tws/twsconnection/{conn.pk}/change/"),
        admin_client_.get("/admin/tws/twsconnection/metrics/"),
    ]
    for faults in ({}, {"error_503": 1.0}, {"unauthorized_401": 1.0}):
        sim.set_faults(**faults)
        pages.append(
            admin_client_.post(
                "/admin/tws/twsconnection/", {"action": "test_connection", "_selected_action": [conn.pk]}, follow=True
            )
        )
        pages.append(admin_client_.get("/api/tws/status"))
        pages.append(admin_client_.get(f"/api/tws/jobs/{sim.server.plan.jobs[0].id}/status"))
        pages.append(admin_client_.get("/api/tws/engine"))
    sim.set_faults()
    assert "connected: engine" in pages[3].content.decode()
    for response in pages:
        _assert_clean(response.content.decode(), f"the answer of {response.request['PATH_INFO']}")
    _assert_clean(str(recorded_entries()), "the audit trail")
    _assert_clean(caplog.text, "logs")
    assert recorded_entries(action="tws_connection.created")[0]["data"]["password_changed"] is True
