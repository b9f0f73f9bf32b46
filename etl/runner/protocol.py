"""The ETL line protocol (DESIGN.md §4.3): ``[LEVEL] [SYSTEM] message`` and ``[PROGRESS] [SYSTEM] NN text``."""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LINE = re.compile(r"^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\] \[([^\]\s]{1,40})\] ?(.*)$", re.DOTALL)
_PROGRESS = re.compile(r"^\[PROGRESS\] \[([^\]\s]{1,40})\] (\d{1,3})\b ?(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One decoded line: level, system code, message, and the progress it announces (or -1)."""

    level: str
    system: str
    message: str
    progress: int = -1


def decode(raw: bytes, total: int, max_bytes: int) -> str:
    """Return ``raw`` as text: invalid UTF-8 replaced, a line cut at ``max_bytes`` marked with its size."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    if total > max_bytes:
        text += f" [... line cut: {total} bytes, kept the first {max_bytes}]"
    return text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL


def parse(text: str, current_system: str) -> ParsedLine:
    """Return the parsed ``text``; any other line is INFO for ``current_system``."""
    if text.startswith("["):
        match = _LINE.match(text)
        if match:
            level = "WARNING" if match.group(1) == "WARN" else match.group(1)
            return ParsedLine(level, match.group(2).lower(), match.group(3))
        match = _PROGRESS.match(text)
        if match:
            # The text after the percentage is the step's status message, not a log line.
            return ParsedLine("INFO", match.group(1).lower(), match.group(3), min(int(match.group(2)), 100))
    return ParsedLine("INFO", current_system, text)


def estimate_progress(lines_so_far: int, typical_lines: int | None) -> int:
    """Return a progress estimate from lines so far against a typical successful run (never 100 before the end)."""
    if not typical_lines:
        return 0
    return min(99, lines_so_far * 100 // typical_lines)
