"""/api/flags: list, rollout and rollback, for admins only."""

from __future__ import annotations

import pytest
from django.test import Client

from cachemig.models import FeatureFlag
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"


def test_admins_list_the_flags(admin_client_: Client) -> None:
    response = admin_client_.get("/api/flags")
    assert response.status_code == 200
    rows = {r["name"]: r for r in response.json()}
    assert rows["MIGRATION_ENABLE_METRICS"]["state"] == "on"
    assert rows[FLAG]["plan"] == "5,25,50,100"
    assert rows[FLAG]["override"] == "unset"


@pytest.mark.parametrize("method", ["get", "post"])
def test_operators_are_forbidden(operator_client: Client, method: str) -> None:
    path = "/api/flags" if method == "get" else f"/api/flags/{FLAG}/rollback"
    response = getattr(operator_client, method)(path, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_anonymous_callers_must_authenticate() -> None:
    assert Client().get("/api/flags").status_code == 401


def test_rollout_advances_then_refuses_with_the_gate_figures(admin_client_: Client, tws_guard: InjectedFigures) -> None:
    response = admin_client_.post(f"/api/flags/{FLAG}/rollout", {"reason": "canary"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["to_percent"] == 5
    tws_guard.set(calls=300, errors=90)
    refused = admin_client_.post(f"/api/flags/{FLAG}/rollout", {}, content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "gate_refused"
    assert "error_ratio=0.3" in refused.json()["detail"]
    forced = admin_client_.post(f"/api/flags/{FLAG}/rollout", {"force": True}, content_type="application/json")
    assert forced.json()["forced"] is True
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25


def test_rollback_returns_to_zero(admin_client_: Client) -> None:
    at_percent(FLAG, 50)
    response = admin_client_.post(
        f"/api/flags/{FLAG}/rollback", {"reason": "incident 42"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"flag": FLAG, "from_percent": 50, "to_percent": 0, "reason": "incident 42"}
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0


def test_unknown_flags_are_404(admin_client_: Client) -> None:
    response = admin_client_.post("/api/flags/NOPE/rollback", {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "flag_not_found"


def test_a_target_outside_1_to_100_is_a_validation_error(admin_client_: Client) -> None:
    response = admin_client_.post(f"/api/flags/{FLAG}/rollout", {"to": 150}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "to"
