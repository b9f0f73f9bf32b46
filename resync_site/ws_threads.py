"""Each websocket connection does its database work on a thread of its own (docs/decisions/websocket-db-threads.md)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.db import connections


class ConnectionThreadMiddleware:
    """Run the thread-sensitive calls of one websocket connection on that connection's own thread.

    Django gives every HTTP request a ``ThreadSensitiveContext``; Channels gives a connection none, so
    the ``database_sync_to_async`` calls of every socket in the process (session and token lookups,
    permission checks, catch-up pages) would queue on asgiref's one shared thread, and one slow
    query would hold up every other socket's handshake. Within the context a connection's calls keep
    their order and thread affinity; when it ends, the thread's database connections are closed
    (a pooled one goes back to the pool) before the thread is let go.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async with ThreadSensitiveContext():
            try:
                await self.app(scope, receive, send)
            finally:
                await sync_to_async(connections.close_all)()
