"""Request middleware: correlation ids."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from core.context import correlation_scope, get_correlation_id, user_scope

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class AsyncMiddleware:
    """Base of our async-only middleware (a hybrid one would return coroutines from sync code)."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]]) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return await self.get_response(request)


class CorrelationIdMiddleware(AsyncMiddleware):
    """Accept or generate ``X-Request-ID``, bind it for logs and tasks, echo it back."""

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get(HEADER, "")
        # Under ASGI the id is already bound by CorrelationIdASGIMiddleware, so that
        # Django's own request logging carries it too; reuse it.
        bound = get_correlation_id()
        with correlation_scope(bound or (incoming if _VALID.match(incoming) else None)) as cid:
            request.correlation_id = cid  # type: ignore[attr-defined]
            response = await self.get_response(request)
        response[HEADER] = cid
        return response


class UserContextMiddleware(AsyncMiddleware):
    """Bind the authenticated user's id so flags and audit can key on it without a request."""

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = await request.auser()
        with user_scope(str(user.pk) if user.is_authenticated else None):
            return await self.get_response(request)


def _header_value(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _VALID.match(text) else None
    return None


class CorrelationIdASGIMiddleware:
    """Bind the correlation id for the whole HTTP exchange and add it to the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with correlation_scope(_header_value(scope)) as cid:

            async def send_with_id(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                    message = {**message, "headers": [*headers, (b"x-request-id", cid.encode())]}
                await send(message)

            await self.app(scope, receive, send_with_id)


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
}


class ApiErrorShapeMiddleware(AsyncMiddleware):
    """Give every non-JSON 4xx/5xx under /api/ the one error body ``{"detail", "code"}``."""

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            shaped = JsonResponse(
                {
                    "detail": f"{response.reason_phrase}: {request.method} {request.path}",
                    "code": _CODES.get(response.status_code, "error"),
                },
                status=response.status_code,
            )
            for header in ("Allow", "Retry-After", HEADER):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response
