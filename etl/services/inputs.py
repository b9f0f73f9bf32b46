"""The input rules of etl's services: the API checks them first, the admin, commands and tasks rely on these."""

from __future__ import annotations

from typing import Any

from core.fields import unsafe_character
from etl.exceptions import InvalidInput
from etl.models import SYSTEM_CODE


def clean_text(field: str, value: str, *, model: Any, column: str, invisible: bool = False) -> str:
    """Return ``value`` if it has no control character and fits ``model.column``, else raise naming ``field``."""
    problem = unsafe_character(value, invisible=invisible)
    if problem:
        raise InvalidInput(field, f"must not contain a {problem}")
    limit = model._meta.get_field(column).max_length
    if limit is not None and len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters (got {len(value)})")
    return value


def clean_system_code(field: str, code: Any) -> str:
    """Return ``code`` if it is a system code (a lower-case slug that cannot start with ``-``), else raise."""
    if not isinstance(code, str) or not SYSTEM_CODE.fullmatch(code):
        raise InvalidInput(field, "must be a lower-case slug such as 'amplis' (a-z, 0-9, - and _, not starting with -)")
    return code
