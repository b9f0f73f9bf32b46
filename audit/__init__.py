"""Audit trail: the one entry point every app uses to record what changed.

``record(action, actor=..., target=..., data=...)`` and its async twin
``arecord``. Inside a database transaction the entry commits or rolls back with
the change it describes.
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
    from audit.services import entry_record

    entry_record(action=action, actor=actor, target=target, data=data or {}, request=request)


async def arecord(
    action: str,
    *,
    actor: Any,
    target: str,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Record an entry from async code (same semantics as :func:`record`)."""
    from asgiref.sync import sync_to_async

    await sync_to_async(record, thread_sensitive=True)(action, actor=actor, target=target, data=data, request=request)
