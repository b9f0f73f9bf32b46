"""API authentication: session (CSRF enforced) or bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from resync_site.services import token_authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rsy_...`` tokens created in the admin."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_authenticate(token)
        if found is None:
            return None
        request.user = found.user
        return found.user


class ActiveSessionAuth(SessionAuth):
    """Session cookie of a logged-in, active user; CSRF is checked on unsafe methods."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a logged-in session this scheme does not apply: answer 401, not a CSRF 403.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


API_AUTH = [TokenAuth(), ActiveSessionAuth()]
