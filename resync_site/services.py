"""Platform use cases: API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

import audit
from resync_site.models import ApiToken

TOKEN_PREFIX = "rsy_"  # noqa: S105 — a public marker, not a secret
_TOUCH_EVERY = timedelta(seconds=60)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: Any, name: str, acting_user: Any) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it and its plaintext, shown once."""
    name = name.strip()
    if not name:
        raise ValueError("name: a token needs a name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name, user=user, prefix=raw[:12], digest=_digest(raw))
    audit.record(
        "api_token.create",
        actor=acting_user,
        target=f"api_token:{token.pk}",
        data={"name": name, "user": user.get_username(), "prefix": token.prefix},
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, acting_user: Any) -> ApiToken:
    """Revoke ``token`` at once; later requests with it get 401."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "api_token.revoke",
            actor=acting_user,
            target=f"api_token:{token.pk}",
            data={"name": token.name, "prefix": token.prefix},
        )
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """Return the active token matching ``raw``, noting when it was last used."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write last-used at most once a minute per token: a hot token must not serialise requests.
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
