"""Live job page, full-log download, the dashboard on the admin index and its JSON refresh endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from tests.console.conftest import append_lines

pytestmark = pytest.mark.django_db(transaction=True)


def test_live_page_needs_login_and_view_right(running_job: Any, django_user_model: Any) -> None:
    anonymous = Client()
    response = anonymous.get(f"/console/jobs/{running_job.pk}/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    nobody = django_user_model.objects.create_user(username="nobody", password="pw-nobody-1")
    client = Client()
    client.force_login(nobody)
    assert client.get(f"/console/jobs/{running_job.pk}/").status_code == 403


def test_viewer_sees_live_panel_without_cancel(running_job: Any, viewer_client: Client) -> None:
    response = viewer_client.get(f"/console/jobs/{running_job.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<title>Execução {running_job.pk} ao vivo" in html  # pt-BR is the default language
    assert "| Resync</title>" in html
    assert 'id="rs-live-config"' in html
    assert "console/live.js" in html
    assert 'data-system="maps"' in html
    # The system filter matches a line's sistema_id (the code); it shows the system's name.
    assert '<option value="maps">MAPS</option>' in html
    assert 'data-role="cancel"' not in html
    assert viewer_client.get("/console/jobs/999999/").status_code == 404


def test_operator_sees_cancel_button(running_job: Any, operator_client: Client) -> None:
    html = operator_client.get(f"/console/jobs/{running_job.pk}/").content.decode()
    assert 'data-role="cancel"' in html


def test_full_log_download_streams_every_line_in_order(running_job: Any, viewer_client: Client) -> None:
    append_lines(running_job, 1, 12001, publish=False)
    response = viewer_client.get(f"/console/jobs/{running_job.pk}/log.txt")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="job-{running_job.pk}.log"'

    async def body() -> bytes:  # served asynchronously under Daphne: the test reads it the same way
        return b"".join([chunk async for chunk in response.streaming_content])

    lines = async_to_sync(body)().decode().splitlines()
    assert [int(line.split("\t", 1)[0]) for line in lines] == list(range(1, 12002))
    assert lines[0].endswith("[INFO] [MAPS] line 1")


def test_static_assets_are_served_in_the_embedded_profile(viewer_client: Client) -> None:
    response = viewer_client.get("/static/console/live.js")
    assert response.status_code == 200
    assert b"resyncLive" in b"".join(response.streaming_content)


def test_admin_index_shows_the_dashboard_cards_in_portuguese(admin_client_: Client, running_job: Any) -> None:
    html = admin_client_.get("/admin/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    for card in ("etl", "audit", "flags", "tws"):
        assert f'data-card="{card}"' in html
    assert "Execuções hoje" in html
    assert "MIGRATION_USE_NEW_CACHE" in html
    assert 'data-status=""' not in html  # no empty rows from a card dict's own methods
    assert f'href="/console/jobs/{running_job.pk}/"' in html
    assert html.index("rs-dash") < html.index("app-resync_site module")  # the app list stays below


def test_admin_index_in_english(admin_client_: Client, running_job: Any) -> None:
    html = admin_client_.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Runs today" in html


def test_dashboard_endpoint_counts_todays_runs_and_hides_cards_without_permission(
    running_job: Any, viewer_client: Client, django_user_model: Any
) -> None:
    body = viewer_client.get("/api/dashboard").json()
    etl = next(c for c in body["cards"] if c["id"] == "etl")
    metrics = {m["key"]: m["value"] for m in etl["metrics"]}
    assert metrics["runs_today"] == 1
    assert metrics["running_now"] == 1
    assert etl["activity"][0]["job_id"] == running_job.pk
    assert sum(sum(s["values"]) for s in etl["chart"]["series"]) == 1
    assert len(etl["chart"]["days"]) == 14

    nobody = django_user_model.objects.create_user(username="nobody", password="pw-nobody-1")
    client = Client()
    client.force_login(nobody)
    ids = {c["id"] for c in client.get("/api/dashboard").json()["cards"]}
    assert "etl" not in ids
    assert "audit" not in ids
    assert Client().get("/api/dashboard").status_code == 401


def test_a_failing_card_shows_as_down_without_breaking_the_dashboard(
    viewer_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cachemig import dashboard

    def broken() -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(dashboard, "card", broken)
    cards = viewer_client.get("/api/dashboard").json()["cards"]
    assert any(c["state"] == "down" for c in cards)
    assert any(c["id"] == "etl" for c in cards)
