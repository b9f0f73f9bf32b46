"""The Origin of a websocket handshake must match an allowed origin by scheme, host and port."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(value: str) -> tuple[str, str, int] | None:
    """Return ``(scheme, host, port)`` of an origin, or None when it is not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether the handshake's Origin is one of ``RESYNC_WS_ALLOWED_ORIGINS`` (or, with none set, this host)."""
    origin = _origin(_header(scope, b"origin"))
    if origin is None:
        return False
    allowed = [_origin(value) for value in settings.RESYNC_WS_ALLOWED_ORIGINS]
    if allowed:
        return origin in allowed
    # Development: same origin as the page that opened the socket (the Host it was served from).
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return origin == _origin(f"{scheme}://{_header(scope, b'host')}")


class OriginCheckMiddleware:
    """Refuse a websocket handshake whose Origin is not allowed (close before accept, as Channels does)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)
