"""Audit trail: the one entry point every app uses to record what changed.

``record(action, actor=..., target=..., data=...)`` and its async twin
``arecord``. Inside a database transaction the entry commits or rolls back with
the change it describes; outside one, ``AUDIT_DURABILITY`` decides whether
``record`` returns once the entry is committed (``sync``) or at once (``buffered``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest


def record(
    action: str,
    *,
    actor: Any,
    target: str,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Record that ``actor`` did ``action`` to ``target`` (``data`` is encrypted at rest)."""
    from audit.services import draft_build
    from audit.writer import get_writer

    get_writer().record(draft_build(action=action, actor=actor, target=target, data=data or {}, request=request))


async def arecord(
    action: str,
    *,
    actor: Any,
    target: str,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Record an entry from async code (same semantics as :func:`record`)."""
    from audit.services import draft_build
    from audit.writer import get_writer

    draft = draft_build(action=action, actor=actor, target=target, data=data or {}, request=request)
    await get_writer().arecord(draft)
