"""API authentication: session (CSRF enforced) or bearer token."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from core.rates import rate_check
from resync_site.services import token_authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rsy_...`` tokens created in the admin."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = token_authenticate(token)
        if found is None:
            # Guessing tokens costs a budget per address: past it, 429 instead of another lookup.
            rate_check(
                "api.bad_token",
                f"ip:{get_client_ip_address(request)}",
                limit=settings.RESYNC_BAD_TOKEN_LIMIT,
                window_seconds=60,
            )
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


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """Return the name django-axes counts failures under: the username of a real user, else a keyed digest.

    What a person types into the username field may be a password; it is never stored as typed.
    """
    from audit.signals import typed_username

    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    known, name = typed_username(str(typed)[:150])
    return name if known else f"unknown:{name}"
