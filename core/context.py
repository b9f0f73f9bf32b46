"""Request context shared by every floor: correlation id and acting user."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("resync_correlation_id", default=None)


_user_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("resync_user_key", default=None)


def get_user_key() -> str | None:
    """Return the id of the authenticated user of the current request, if any."""
    return _user_key.get()


@contextmanager
def user_scope(user_key: str | None) -> Iterator[None]:
    """Bind the acting user's id for the duration of the block."""
    token = _user_key.set(user_key)
    try:
        yield
    finally:
        _user_key.reset(token)


def get_correlation_id() -> str | None:
    """Return the correlation id of the current request or task, if any."""
    return _correlation_id.get()


def new_correlation_id() -> str:
    """Return a fresh correlation id."""
    return uuid.uuid4().hex


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    """Bind ``correlation_id`` (or a new one) for the duration of the block."""
    value = correlation_id or new_correlation_id()
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)
