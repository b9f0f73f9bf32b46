"""Field types of every API edge: text without control characters, within its column, and ids a database takes.

Usage in a request shape::

    code: Annotated[SafeStr, column_max(Fund, "code")]
    job_id: DbId

The same rules are offered as plain functions (``unsafe_character``) for services, whose callers
(admin, commands, tasks) do not pass through pydantic.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, GetCoreSchemaHandler, StrictStr
from pydantic_core import PydanticCustomError, core_schema

# C0 controls (NUL included: PostgreSQL refuses it in text), DEL and C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The largest value of a signed 64-bit column (BigAutoField, bigint OFFSET).
BIGINT_MAX = 2**63 - 1
# The largest value of a signed 32-bit column (IntegerField, PositiveIntegerField).
INT_MAX = 2**31 - 1


def unsafe_character(value: str, *, invisible: bool = False) -> str | None:
    """Return a description of the first character of ``value`` an edge refuses, or None.

    Refused: control characters (NUL, newline, tab, DEL, C1) and lone surrogates (which no database
    encodes); with ``invisible``, also format characters (right-to-left overrides, zero-width spaces)
    that make a displayed path differ from the stored one.
    """
    found = _CONTROL.search(value)
    if found:
        return f"control character U+{ord(found.group()):04X}"
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs" or (invisible and category == "Cf"):
            return f"{'surrogate' if category == 'Cs' else 'invisible format'} character U+{ord(char):04X}"
    return None


def _refuse_unsafe(value: str) -> str:
    problem = unsafe_character(value)
    if problem:
        raise PydanticCustomError("unsafe_character", "must not contain a {problem}", {"problem": problem})
    return value


# A string (never coerced from a number) without control characters; add a length with ``column_max``.
SafeStr = Annotated[StrictStr, AfterValidator(_refuse_unsafe)]

# An id or a count a database column holds (a larger one is refused with 422, never an overflow).
DbId = Annotated[int, Ge(1), Le(BIGINT_MAX)]
DbInt = Annotated[int, Ge(0), Le(INT_MAX)]


class MaxChars:
    """``Annotated`` metadata: at most ``limit`` characters, checked before the type's own rules."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # First the length (a clear "at most N characters", and maxLength in the OpenAPI document), then the rest.
        return core_schema.chain_schema([core_schema.str_schema(strict=True, max_length=self.limit), handler(source)])


def column_max(model: Any, field: str) -> MaxChars:
    """Return the length limit of ``model``'s column ``field`` (its ``max_length``) for an ``Annotated`` field."""
    limit = model._meta.get_field(field).max_length
    if not isinstance(limit, int):
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return MaxChars(limit)
