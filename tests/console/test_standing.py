"""An open websocket loses what its user loses: a revoked token, a deactivated account, a lost role, a logout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from tests.console.conftest import communicator, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_rechecks(settings: Any) -> None:
    settings.RESYNC_WS_RECHECK_SECONDS = 0.2


async def _closed_with(comm: WebsocketCommunicator) -> int:
    """Read frames until the server closes the socket; return the close code (bounded wait, not a timing test)."""
    while True:
        message = await comm.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            return int(message["code"])


async def _listening(path: str, *, token: str | None = None, cookie: str | None = None) -> WebsocketCommunicator:
    comm = communicator(path, token, cookie=cookie)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "ping"})
    await receive_until(comm, lambda f: f["type"] == "pong")
    return comm


def _revoke_all(user: Any) -> None:
    from resync_site.models import ApiToken
    from resync_site.services import token_revoke

    for token in ApiToken.objects.filter(user=user):
        token_revoke(token=token, acting_user=user)


def _deactivate(user: Any) -> None:
    type(user).objects.filter(pk=user.pk).update(is_active=False)


def _leave_every_group(user: Any) -> None:
    user.groups.clear()


@pytest.mark.parametrize(
    ("change", "code"),
    [(_revoke_all, 4401), (_deactivate, 4401), (_leave_every_group, 4403)],
    ids=["token revoked", "user deactivated", "role removed"],
)
async def test_a_listening_socket_is_closed_when_its_user_loses_the_right(
    running_job: Any, operator: Any, token_for: Any, change: Callable[[Any], None], code: int
) -> None:
    comm = await _listening(f"/ws/jobs/{running_job.pk}", token=await sync_to_async(token_for)(operator))

    await sync_to_async(change)(operator)

    assert await _closed_with(comm) == code


async def test_a_cancel_sent_after_the_revocation_cancels_nothing(
    running_job: Any, operator: Any, token_for: Any
) -> None:
    comm = await _listening("/ws", token=await sync_to_async(token_for)(operator))
    await sync_to_async(_revoke_all)(operator)

    await comm.send_json_to({"type": "cancel", "job_id": running_job.pk})

    assert await _closed_with(comm) == 4401
    await running_job.arefresh_from_db()
    assert running_job.cancel_requested_at is None


async def test_logging_out_closes_the_session_socket(running_job: Any, viewer: Any) -> None:
    client = Client()
    await sync_to_async(client.force_login)(viewer)
    comm = await _listening("/ws", cookie=f"sessionid={client.cookies['sessionid'].value}")

    await sync_to_async(client.logout)()  # what the logout view does: the session is flushed

    assert await _closed_with(comm) == 4401


Origin = Callable[[str, str], Awaitable[bool]]


async def _handshake(origin: str, host: str, token: str) -> bool:
    from resync_site.asgi import application

    headers = [(b"origin", origin.encode()), (b"host", host.encode()), (b"authorization", f"Bearer {token}".encode())]
    comm = WebsocketCommunicator(application, "/ws", headers=headers)
    connected, _ = await comm.connect()
    await comm.disconnect()
    return bool(connected)


@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("https://localhost:8000", "localhost:8000", False),  # another scheme
        ("http://localhost:9000", "localhost:8000", False),  # another port
        ("http://evil.example:8000", "localhost:8000", False),
        ("null", "localhost:8000", False),
    ],
)
async def test_the_origin_must_be_the_pages_own_scheme_host_and_port(
    viewer: Any, token_for: Any, origin: str, host: str, accepted: bool
) -> None:
    assert await _handshake(origin, host, await sync_to_async(token_for)(viewer)) is accepted


async def test_configured_origins_are_matched_exactly(viewer: Any, token_for: Any, settings: Any) -> None:
    settings.RESYNC_WS_ALLOWED_ORIGINS = ["https://resync.example.com"]
    token = await sync_to_async(token_for)(viewer)
    assert await _handshake("https://resync.example.com", "10.0.0.5:8001", token)
    assert await _handshake("https://resync.example.com:443", "10.0.0.5:8001", token)
    assert not await _handshake("http://resync.example.com", "10.0.0.5:8001", token)
    assert not await _handshake("https://resync.example.com:8443", "10.0.0.5:8001", token)
