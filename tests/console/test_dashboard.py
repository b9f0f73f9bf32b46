"""The dashboard hook: an app's declared card replaces its fallback; the live panel tag for the admin Job page."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

pytestmark = pytest.mark.django_db


def fake_tws_card() -> dict[str, Any]:
    return {
        "id": "tws",
        "title": "TWS engine",
        "state": "degraded",
        "metrics": [{"key": "circuit", "label": "Circuit", "value": "half-open"}],
    }


def test_the_card_an_app_declares_is_shown(viewer_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    config = apps.get_app_config("tws")
    monkeypatch.setattr(
        config, "resync_dashboard_cards", ("tests.console.test_dashboard.fake_tws_card",), raising=False
    )
    cards = {c["id"]: c for c in viewer_client.get("/api/dashboard").json()["cards"]}
    assert cards["tws"]["state"] == "degraded"
    assert cards["tws"]["metrics"][0]["value"] == "half-open"


def test_every_area_has_its_card_and_viewers_see_them(viewer_client: Any) -> None:
    body = viewer_client.get("/api/dashboard", HTTP_ACCEPT_LANGUAGE="en").json()
    cards = {c["id"]: c for c in body["cards"]}
    assert set(cards) == {"tws", "tws_at_risk", "etl", "audit", "flags", "cache"}
    assert cards["tws"]["state"] == "unknown"  # never synced yet
    tws = {m["key"]: m["value"] for m in cards["tws"]["metrics"]}
    assert tws["circuit"] == "closed"
    assert tws["jobs_in_plan"] == 0
    flags = {r["label"]: r["value"] for r in cards["flags"]["rows"]}
    assert flags["MIGRATION_ENABLE_METRICS"] == "on"
    assert flags["TWS_UNIFIED_V2_ENABLED"] == "off"
    assert {m["key"] for m in cards["audit"]["metrics"]} == {"last_seq", "verification", "verified_at"}


def test_cards_follow_permissions(client: Any, django_user_model: Any) -> None:
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    client.force_login(nobody)
    assert client.get("/api/dashboard").json()["cards"] == []


def test_english_labels_on_request(viewer_client: Any) -> None:
    body = viewer_client.get("/api/dashboard", HTTP_ACCEPT_LANGUAGE="en").json()
    etl = next(c for c in body["cards"] if c["id"] == "etl")
    assert etl["title"] == "ETL pipelines"
    body = viewer_client.get("/api/dashboard", HTTP_ACCEPT_LANGUAGE="pt-br").json()
    etl = next(c for c in body["cards"] if c["id"] == "etl")
    assert etl["title"] == "Pipelines ETL"


def test_live_panel_tag_renders_for_the_admin_job_page(running_job: Any, operator: Any, rf: Any) -> None:
    from django.template import Context, Template

    request = rf.get("/admin/etl/job/1/change/")
    request.user = operator
    html = Template("{% load etl_console %}{% live_job_panel job.pk %}").render(
        Context({"request": request, "job": running_job})
    )
    assert f'data-job="{running_job.pk}"' in html
    assert 'data-role="cancel"' in html
    assert f"/console/jobs/{running_job.pk}/log.txt" in html


_builds: list[int] = []


def counting_card() -> dict[str, Any]:
    _builds.append(1)
    return {
        "id": "tws",
        "title": "TWS engine",
        "state": "ok",
        "permission": "tws.view_jobinplan",
        "metrics": [{"key": "built", "label": "Built", "value": len(_builds)}],
    }


def test_polling_dashboards_share_one_build_and_permissions_still_apply(
    viewer_client: Any, client: Any, django_user_model: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import caches

    settings.RESYNC_DASHBOARD_CACHE_SECONDS = 60
    caches["default"].clear()
    config = apps.get_app_config("tws")
    monkeypatch.setattr(
        config, "resync_dashboard_cards", ("tests.console.test_dashboard.counting_card",), raising=False
    )
    _builds.clear()
    first = {c["id"]: c for c in viewer_client.get("/api/dashboard").json()["cards"]}
    second = {c["id"]: c for c in viewer_client.get("/api/dashboard").json()["cards"]}
    assert first["tws"]["metrics"][0]["value"] == second["tws"]["metrics"][0]["value"] == 1
    assert len(_builds) == 1

    client.force_login(django_user_model.objects.create_user(username="nobody", password="x"))
    assert client.get("/api/dashboard").json()["cards"] == []  # the shared build is filtered per user

    settings.RESYNC_DASHBOARD_CACHE_SECONDS = 0
    again = {c["id"]: c for c in viewer_client.get("/api/dashboard").json()["cards"]}
    assert again["tws"]["metrics"][0]["value"] == 2
