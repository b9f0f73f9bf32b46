"""One edge policy for every app: a lost role is refused at once, one 413 and one 429 shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.models import Group
from django.test import Client

from etl.models import Job
from resync_site import permissions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _permission_cache_on(settings: Any) -> None:
    # The production setting: permission sets are kept per process, so the test proves the invalidation.
    settings.RESYNC_PERMISSION_CACHE_SECONDS = 5
    permissions.forget_all()


@pytest.fixture
def staff_admin(django_user_model: Any) -> Any:
    """An Admin by role only (not a superuser), so losing the group loses every right."""
    from tests.conftest import _user

    return _user(django_user_model, "flag-owner", "Admins", is_staff=True)


# (role fixture, group, method, path, answer while the role is held, permission named in the refusal)
CASES = [
    ("operator", "Operators", "get", "/api/jobs", 200, "etl.view_job"),
    ("operator", "Operators", "post", "/api/cancel/999999", 404, "etl.cancel_job"),
    ("operator", "Operators", "get", "/api/tws/jobs", 200, "tws.view_jobinplan"),
    ("staff_admin", "Admins", "get", "/api/flags", 200, "cachemig.change_featureflag"),
    ("staff_admin", "Admins", "get", "/api/audit", 200, "audit.export_auditentry"),
]


@pytest.mark.parametrize(("who", "group", "method", "path", "allowed", "perm"), CASES)
def test_a_user_removed_from_their_group_is_refused_on_the_next_request(
    request: pytest.FixtureRequest, who: str, group: str, method: str, path: str, allowed: int, perm: str
) -> None:
    user = request.getfixturevalue(who)
    client = Client()
    client.force_login(user)
    assert getattr(client, method)(path).status_code == allowed  # the role's set is now kept in this process

    user.groups.remove(Group.objects.get(name=group))

    refused = getattr(client, method)(path)
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"permission required: {perm}", "code": "forbidden"}


def test_every_refusal_names_the_missing_permission_in_one_message(viewer_client: Client) -> None:
    answers = [
        viewer_client.post("/api/cancel/1"),
        viewer_client.post(
            "/api/tws/jobs/00000000-0000-4000-8000-000000000000/actions/hold", data={}, content_type="application/json"
        ),
        viewer_client.get("/api/flags"),
    ]
    details = [a.json()["detail"] for a in answers]
    assert all(a.status_code == 403 for a in answers), details
    assert all(d.startswith("permission required: ") for d in details), details


def test_the_rate_limit_answers_429_with_retry_after_from_the_one_handler(
    operator_client: Client, settings: Any
) -> None:
    settings.ETL_RATE_LIMIT_REQUESTS = 1
    first = operator_client.post("/api/cancel/424242")
    second = operator_client.post("/api/cancel/424242")
    assert first.status_code == 404
    assert second.status_code == 429
    assert second.json()["code"] == "rate_limited"
    assert "cancel" in second.json()["detail"]
    assert 1 <= int(second["Retry-After"]) <= 60


def _asgi_post(path: str, token: str, chunks: list[bytes]) -> tuple[int, dict[str, Any]]:
    """POST ``chunks`` to the real ASGI application as a chunked body (no Content-Length), as Daphne delivers it."""
    from asgiref.sync import async_to_sync

    from resync_site.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def exchange() -> tuple[int, dict[str, Any]]:
        app = ApplicationCommunicator(application, scope)
        for index, chunk in enumerate(chunks):
            await app.send_input({"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1})
        start = await app.receive_output(timeout=30)
        body = b""
        while True:
            message = await app.receive_output(timeout=30)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        return start["status"], json.loads(body)

    return async_to_sync(exchange)()


def test_a_chunked_body_over_the_limit_is_refused_with_413_and_nothing_is_stored(api_token: str, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    padding = "x" * 100_000
    document = json.dumps({"sistemas": ["maps"], "data_inicial": "2025-01-15", "padding": padding}).encode()
    chunks = [document[i : i + 8192] for i in range(0, len(document), 8192)]

    status, answer = _asgi_post("/api/execute", api_token, chunks)

    assert status == 413
    assert answer["code"] == "payload_too_large"
    assert "65536 bytes" in answer["detail"]
    assert Job.objects.count() == 0
