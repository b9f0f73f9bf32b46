"""Receivers that audit sign-ins and sign-outs (connected in AuditConfig.ready())."""

from __future__ import annotations

from typing import Any

import audit


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    meta = getattr(request, "META", {})
    return {"ip": str(meta.get("REMOTE_ADDR", "")), "path": str(getattr(request, "path", ""))[:200]}


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Record a successful sign-in."""
    audit.record("auth.login", actor=user, target=f"user:{user.pk}", data=_client(request))


def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Record a sign-out (``user`` is None when the session had expired)."""
    target = f"user:{user.pk}" if user is not None else "user:anonymous"
    audit.record("auth.logout", actor=user, target=target, data=_client(request))


def typed_username(typed: str) -> tuple[bool, str]:
    """Return ``(True, typed)`` when ``typed`` names an existing user, else ``(False, a keyed digest of it)``.

    A password typed into the username field must never be stored; the digest still groups repeated
    attempts on one name (until the pending-row key rotates). django-axes stores the same form.
    """
    from django.contrib.auth import get_user_model

    from core import keyring

    model = get_user_model()
    if typed and model._default_manager.filter(**{model.USERNAME_FIELD: typed}).exists():
        return True, typed
    return False, keyring.pending_mac(b"failed-login|" + typed.encode())[:35]


def failed_login_target(typed: str) -> str:
    """Return how a failed sign-in names what was typed: the username of an existing user, else a keyed digest."""
    known, name = typed_username(typed)
    return f"username:{name}" if known else f"unknown-username:{name}"


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Record a failed sign-in by the username tried, only if it names a user (never the password).

    Attempts refused while the sign-in is locked out (django-axes) are not recorded: the lockout
    already bounds what an anonymous caller can add to the trail.
    """
    if getattr(request, "axes_locked_out", False):
        return
    target = failed_login_target(str(credentials.get("username", ""))[:150])
    audit.record("auth.login_failed", actor="anonymous", target=target, data=_client(request))
