"""Health endpoints as an operator or a probe sees them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def test_liveness_answers_without_login(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_detailed_names_every_component(client: Client) -> None:
    response = client.get("/health/detailed")
    assert response.status_code == 200
    components = response.json()["components"]
    for name in ("database", "cache:default", "cache:legacy", "cache:new", "huey", "channel_layer"):
        assert components[name]["status"] == "ok", components[name]
        assert isinstance(components[name]["latency_ms"], float)
    assert components["database"]["critical"] is True


@pytest.mark.django_db
def test_detailed_is_503_when_the_database_is_down(client: Client, monkeypatch: Any) -> None:
    from resync_site import health

    def broken() -> dict[str, Any]:
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "check_database", broken)
    response = client.get("/health/detailed")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["database"]["status"] == "down"
    assert "connection refused" in body["components"]["database"]["detail"]


@pytest.mark.django_db
def test_detailed_requires_staff_or_token_when_protected(client: Client, settings: Any, admin_user: Any) -> None:
    settings.RESYNC_PROTECT_OBSERVABILITY = True
    settings.RESYNC_OBSERVABILITY_TOKEN = "probe-token-123"
    assert client.get("/health/detailed").status_code == 401
    assert client.get("/health/detailed", HTTP_AUTHORIZATION="Bearer probe-token-123").status_code == 200
    client.force_login(admin_user)
    assert client.get("/health/detailed").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db
def test_detailed_reports_postgresql_in_the_production_database(client: Client) -> None:
    response = client.get("/health/detailed")
    assert response.status_code == 200
    assert response.json()["components"]["database"]["detail"] == "postgresql"
