"""Log lines on stdout (JSON, or one readable line on a terminal) with correlation ids and secrets masked."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from core.context import get_correlation_id
from core.redaction import SENSITIVE_KEY, redact, redact_text

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "correlation_id"}


class ContextFilter(logging.Filter):
    """Attach the current correlation id to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", None):
            record.correlation_id = get_correlation_id()
        return True


class RedactionFilter(logging.Filter):
    """Mask sensitive keys and registered secret values in the message, args and extras."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} (unformatted arguments: {record.args!r})"
        record.msg = redact_text(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key in _STANDARD:
                continue
            if SENSITIVE_KEY.search(key) and value not in (None, ""):
                setattr(record, key, "***")
            else:
                setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """Format a record as one JSON object: ts, level, logger, msg, correlation_id, extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["ts"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["correlation_id"] = getattr(record, "correlation_id", None)
        if "message" in log_record:
            log_record["msg"] = log_record.pop("message")
        if record.exc_text and "exc_info" in log_record:
            log_record["exc_info"] = redact_text(str(log_record["exc_info"]))


class ConsoleFormatter(logging.Formatter):
    """Format a record as one line a person reads: time, level, logger, message, correlation id, extras.

    Colours (by level) only when ``colour`` is on: the settings turn it on when stdout is a terminal.
    """

    COLOURS = {
        "DEBUG": "\x1b[2m",
        "INFO": "\x1b[36m",
        "WARNING": "\x1b[33m",
        "ERROR": "\x1b[31m",
        "CRITICAL": "\x1b[1;31m",
    }
    RESET = "\x1b[0m"

    def __init__(self, *args: Any, colour: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S.%f")[:-3]
        level = f"{record.levelname:<7}"
        if self.colour:
            level = f"{self.COLOURS.get(record.levelname, '')}{level}{self.RESET}"
        parts = [moment, level, f"{record.name}:", record.getMessage()]
        correlation_id = getattr(record, "correlation_id", None)
        if correlation_id:
            parts.append(f"cid={correlation_id}")
        parts.extend(
            f"{key}={value}" for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")
        )
        line = " ".join(parts)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        elif record.exc_info:
            line = f"{line}\n{redact_text(self.formatException(record.exc_info))}"
        return line


def log_format(*, requested: str, production: bool, stdout_is_terminal: bool) -> str:
    """Return ``json`` or ``console``: ``LOG_FORMAT`` when set (never console in production), else by the terminal."""
    if production:
        return "json"
    if requested in {"json", "console"}:
        return requested
    return "console" if stdout_is_terminal else "json"
