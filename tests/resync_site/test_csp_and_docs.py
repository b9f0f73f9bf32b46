"""A Content-Security-Policy on every page, API docs served locally and closed to strangers in production."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs", "/api/health", "/health"])
def test_every_answer_carries_a_same_origin_policy(client: Client, path: str) -> None:
    policy = client.get(path)["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_swagger_ui_loads_from_this_server_not_a_cdn(client: Client) -> None:
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_production_docs_need_a_staff_login(client: Client, settings: Any, viewer: Any, admin_user: Any) -> None:
    settings.RESYNC_API_DOCS_PUBLIC = False
    for path in ("/api/docs", "/api/openapi.json"):
        anonymous = client.get(path)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/admin/login/")

    client.force_login(viewer)
    assert client.get("/api/openapi.json").status_code == 302  # not staff

    client.force_login(admin_user)
    assert client.get("/api/openapi.json").json()["info"]["title"] == "Resync API"
