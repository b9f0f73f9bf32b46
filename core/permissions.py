"""The one permission check of every API: ``require(request, *perms)`` and its async twin.

It asks ``user.has_perm``, which goes through the platform's one permission cache
(``resync_site.permissions.CachedModelBackend``): a role lost in this process is refused on the
next request, and in other processes within ``RESYNC_PERMISSION_CACHE_SECONDS``. No app keeps a
cache of its own on top of it.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from core.errors import PermissionDeniedError


def missing_permissions(user: Any, *perms: str) -> list[str]:
    """Return those of ``perms`` that ``user`` lacks (an inactive user lacks every one)."""
    return [perm for perm in perms if not user.has_perm(perm)]


def require(request: Any, *perms: str) -> None:
    """Raise ``PermissionDeniedError`` naming each of ``perms`` the request's user lacks."""
    missing = missing_permissions(request.user, *perms)
    if missing:
        raise PermissionDeniedError(f"permission required: {', '.join(missing)}")


async def arequire(request: Any, *perms: str) -> None:
    """Check ``perms`` as :func:`require` does, from async code."""
    await sync_to_async(require)(request, *perms)
