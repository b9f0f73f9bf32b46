"""Websocket authentication by API token (``?token=`` or ``Authorization`` header)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from resync_site.services import token_authenticate


def _token_from(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.startswith(b"Bearer "):
            return str(value[7:].decode("latin-1").strip())
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("token", [""])[0]


@database_sync_to_async
def _token_for(raw: str) -> Any:
    return token_authenticate(raw)


class TokenAuthMiddleware(BaseMiddleware):
    """Replace an anonymous session user with the token's user when a valid token is sent."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = _token_from(scope)
        if raw:
            token = await _token_for(raw)
            if token is not None:
                # The token's id (never the token) lets the connection check later that it still stands.
                scope = {**scope, "user": token.user, "api_token_id": token.pk}
        return await super().__call__(scope, receive, send)
