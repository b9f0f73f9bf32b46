"""Secret redaction shared by logs, errors and reprs: keys by name, values by registration."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

MASK = "***"
SENSITIVE_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authorization|api[_-]?key|credential|cookie|signature|private",
    re.IGNORECASE,
)
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears in a log line from now on."""
    global _pattern
    if not value or len(value) < 4:  # masking tiny values would mangle ordinary text
        return
    with _lock:
        if value not in _secrets:
            _secrets.add(value)
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact_text(text: str) -> str:
    """Return ``text`` with every registered secret value masked."""
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def redact(value: Any) -> Any:
    """Return ``value`` with sensitive keys and registered secrets masked, recursively."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and SENSITIVE_KEY.search(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
