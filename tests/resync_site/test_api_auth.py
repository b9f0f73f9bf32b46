"""API authentication: sessions with CSRF, API tokens, revocation, the error body."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unauthenticated_api_gets_401_with_the_error_shape(client: Client) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "authentication required: log in or send a valid API token",
        "code": "not_authenticated",
    }


def test_health_under_api_needs_no_login(client: Client) -> None:
    assert client.get("/api/health").status_code == 200


def test_token_authenticates_and_records_last_use(client: Client, api_token: str, operator: Any) -> None:
    from resync_site.models import ApiToken

    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "operator"
    assert body["roles"] == ["Operators"]
    assert ApiToken.objects.get(user=operator).last_used_at is not None


def test_revoked_token_gets_401(client: Client, api_token: str, operator: Any) -> None:
    from resync_site.models import ApiToken
    from resync_site.services import token_revoke

    token_revoke(token=ApiToken.objects.get(user=operator), acting_user=operator)
    response = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code == 401


def test_unknown_token_gets_401(client: Client) -> None:
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer rsy_not-a-real-token").status_code == 401


def test_tokens_are_stored_hashed_and_audited(api_token: str, operator: Any) -> None:
    from audit.testing import recorded_entries
    from resync_site.models import ApiToken

    token = ApiToken.objects.get(user=operator)
    assert api_token not in (token.digest, token.prefix)
    assert len(token.digest) == 64
    entries = recorded_entries(action="api_token.create")
    assert entries[-1]["target"] == f"api_token:{token.pk}"
    assert api_token not in str(entries)


def test_session_auth_enforces_csrf_on_unsafe_methods(operator: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.get("/api/me").json()["language"] == "pt-br"
    # No CSRF token: the session cannot change anything.
    refused = client.put("/api/me/language", {"language": "en"}, content_type="application/json")
    assert refused.status_code in (401, 403)
    assert client.get("/api/me").json()["language"] == "pt-br"
    # With the token from the cookie, the same call goes through.
    client.get("/admin/login/")
    csrf = client.cookies["csrftoken"].value
    accepted = client.put(
        "/api/me/language", {"language": "en"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 200
    assert accepted.json()["language"] == "en"
    assert client.get("/api/me").json()["language"] == "en"  # remembered for the next requests


def test_wrong_method_and_invalid_input_keep_the_error_shape(operator_client: Client) -> None:
    not_allowed = operator_client.post("/api/me")
    assert not_allowed.status_code == 405
    assert not_allowed.json()["code"] == "method_not_allowed"
    invalid = operator_client.put("/api/me/language", {"language": "fr"}, content_type="application/json")
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["code"] == "validation_error"
    assert body["detail"].startswith("language:")


def test_openapi_schema_and_docs_are_served(admin_client_: Client) -> None:
    schema = admin_client_.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/me" in schema.json()["paths"]
    assert admin_client_.get("/api/docs").status_code == 200


def test_unknown_api_path_gets_404_with_the_error_shape(admin_client_: Client) -> None:
    response = admin_client_.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
