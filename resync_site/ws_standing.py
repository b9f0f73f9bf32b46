"""An open websocket keeps its rights only while its user does: checked on every frame and every few seconds.

REST checks the caller on every request; a socket authenticates once. This middleware sits inside
the authentication stack and, for as long as the connection lives, checks that the token it came
with is not revoked, that its session still exists (logging out ends it), that the user is active
and still has the route's view permission. It checks before each client frame reaches the consumer
(so a ``cancel`` after a revocation is refused) and every ``RESYNC_WS_RECHECK_SECONDS`` (so a socket
that only listens is closed within that bound, plus the permission cache's in another process).
When the user's standing is gone, the client gets close code 4401 (not authenticated any more) or
4403 (permission lost) and the consumer a disconnect. Each check puts a fresh user in the scope, so
the consumer's own permission checks never read a set cached on a stale user object.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def standing(scope: dict[str, Any], permission: str) -> tuple[int | None, Any]:
    """Return ``(None, fresh user)`` while the connection's user may stay, else ``(close code, None)``."""
    from resync_site.models import ApiToken

    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return CLOSE_UNAUTHENTICATED, None
    token_id = scope.get("api_token_id")
    if token_id is not None:
        if not ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).exists():
            return CLOSE_UNAUTHENTICATED, None
    else:
        session = scope.get("session")
        key = getattr(session, "session_key", None)
        if session is None or key is None or not session.exists(key):
            return CLOSE_UNAUTHENTICATED, None
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None:
        return CLOSE_UNAUTHENTICATED, None
    if not fresh.has_perm(permission):
        return CLOSE_FORBIDDEN, None
    return None, fresh


class StandingMiddleware:
    """Close a websocket whose user lost its token, session, account or ``permission`` (see the module)."""

    def __init__(self, app: Any, *, permission: str) -> None:
        self.app = app
        self.permission = permission

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)  # this connection's own: each check puts the fresh user in it
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        accepted = asyncio.Event()
        closed = asyncio.Event()

        async def check() -> bool:
            code, user = await database_sync_to_async(standing)(scope, self.permission)
            if code is None:
                scope["user"] = user
                return True
            if not closed.is_set():
                closed.set()
                if accepted.is_set():
                    with contextlib.suppress(Exception):  # the client may be gone already
                        await send({"type": "websocket.close", "code": code})
                inbox.put_nowait({"type": "websocket.disconnect", "code": code})
            return False

        async def pump() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.receive" and not await check():
                    continue  # the frame of a user who lost the right to send it is dropped
                inbox.put_nowait(message)
                if message["type"] == "websocket.disconnect":
                    return

        async def watch() -> None:
            interval = float(settings.RESYNC_WS_RECHECK_SECONDS)
            while not closed.is_set():
                await asyncio.sleep(interval)
                if accepted.is_set():
                    await check()

        async def tracked_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept":
                accepted.set()
            if closed.is_set() and message["type"] != "websocket.close":
                return
            await send(message)

        async with asyncio.TaskGroup() as tg:
            helpers = [tg.create_task(pump()), tg.create_task(watch())]
            try:
                await self.app(scope, inbox.get, tracked_send)
            finally:
                for task in helpers:
                    task.cancel()
