"""Hooks of the tws app: embedded simulator, health, admin screens, key rotation, command."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.tws.conftest import SIM_PASSWORD, SIM_USER, fast_settings
from tws.simulator.threaded import ThreadedSimulator


async def test_the_embedded_simulator_starts_in_the_task_group_unless_tws_base_url_is_set(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tws.simulator import run

    settings.TWS_SIMULATOR_PORT = 0
    settings.TWS_SIMULATOR_JOBS = 150
    monkeypatch.delenv("TWS_BASE_URL", raising=False)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    with pytest.raises(ExceptionGroup):  # noqa: PT012 — the group ends when we cancel it
        async with asyncio.TaskGroup() as tg:
            url = await run(tg, "0.0.0.0")
            async with httpx.AsyncClient() as http:
                answer = await http.get(url + "/twsd/api/v2/engine/info", auth=("twsuser", SIM_PASSWORD))
            assert answer.status_code == 200
            raise RuntimeError("stop")
    monkeypatch.setenv("TWS_BASE_URL", "https://hwa.example:31116")
    async with asyncio.TaskGroup() as tg:
        assert await run(tg, "127.0.0.1") == "https://hwa.example:31116"


@pytest.mark.django_db
def test_health_is_degraded_not_down_when_tws_is_unreachable(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tws.health import check

    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    assert check()["status"] == "ok"
    sim.stop_listening()
    try:
        report = check()
    finally:
        sim.start_listening()
    assert report["status"] == "degraded"
    assert "unreachable" in report["detail"]


@pytest.mark.django_db
def test_health_detailed_lists_the_tws_component(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWS_BASE_URL", "http://127.0.0.1:1")
    body = client.get("/health/detailed").json()
    text = str(body)
    assert "tws" in text
    assert "degraded" in text


@pytest.mark.django_db
def test_admin_screens_search_jobs_and_acknowledge_alerts(
    sim: ThreadedSimulator, admin_client_: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.testing import recorded_entries
    from tws.models import Alert
    from tws.services import plan_sync

    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    assert plan_sync(settings=fast_settings(sim.url)).ok
    job = sim.server.plan.jobs[21]
    page = admin_client_.get("/admin/tws/jobinplan/", {"q": job.name})
    assert page.status_code == 200
    assert job.name in page.content.decode()
    assert admin_client_.get("/admin/tws/jobinplan/", {"status__exact": "ERROR"}).status_code == 200
    assert admin_client_.get("/admin/tws/workstation/").status_code == 200
    alert = Alert.objects.filter(kind="job_error").first()
    assert alert is not None
    done = admin_client_.post(
        "/admin/tws/alert/", {"action": "acknowledge", "_selected_action": [alert.pk]}, follow=True
    )
    assert done.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert recorded_entries(action="tws_alert.acknowledged")
    metrics_page = admin_client_.get("/admin/tws/twsconnection/metrics/").content.decode()
    assert "tws_requests_total" in metrics_page


@pytest.mark.django_db
def test_key_rotation_reseals_the_stored_password(admin_user: Any) -> None:
    from core import keyring
    from tws.models import TWSConnection
    from tws.services import connection_save

    connection_save(
        acting_user=admin_user, name="p", base_url="https://hwa.example:1", username="u", password="rotate-me-1"
    )
    before = keyring.key_id_of(TWSConnection.objects.get().password_sealed)
    keyring.rotate_keyring()
    counts = keyring.reencrypt_all()
    assert counts["tws.TWSConnection"] == 1
    conn = TWSConnection.objects.get()
    assert keyring.key_id_of(conn.password_sealed) != before
    assert conn.password() == "rotate-me-1"


def test_the_simulator_command_rejects_bad_arguments() -> None:
    with pytest.raises(CommandError, match="--jobs"):
        call_command("tws_simulator", "--jobs", "5")
    with pytest.raises(CommandError, match="unknown fault"):
        call_command("tws_simulator", "--faults", "boom=0.5")
