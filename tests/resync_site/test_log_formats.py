"""Two log formats for one record: JSON for shippers, a readable line for a terminal; secrets masked in both."""

from __future__ import annotations

import json
import logging

import pytest

from core.redaction import register_secret
from resync_site.logging import ConsoleFormatter, ContextFilter, JsonFormatter, RedactionFilter, log_format

SECRET = "hunter2-tws-password"


def _record() -> logging.LogRecord:
    register_secret(SECRET)
    record = logging.makeLogRecord(
        {
            "name": "tws.hwa.client",
            "levelname": "WARNING",
            "levelno": logging.WARNING,
            "msg": "login to %s refused with password %s",
            "args": ("hwa.example", SECRET),
            "correlation_id": "c0ffee",
            "operation": "get_jobs",
            "password": SECRET,
        }
    )
    ContextFilter().filter(record)
    RedactionFilter().filter(record)
    return record


def test_both_formats_carry_the_same_facts_with_the_secret_masked() -> None:
    as_json = json.loads(JsonFormatter().format(_record()))
    line = ConsoleFormatter().format(_record())

    assert as_json["msg"] == "login to hwa.example refused with password ***"
    assert as_json["level"] == "WARNING"
    assert as_json["logger"] == "tws.hwa.client"
    assert as_json["correlation_id"] == "c0ffee"
    assert as_json["operation"] == "get_jobs"
    assert as_json["password"] == "***"

    assert "WARNING tws.hwa.client: login to hwa.example refused with password ***" in line
    assert "cid=c0ffee" in line
    assert "operation=get_jobs" in line
    assert "password=***" in line
    assert SECRET not in line
    assert "\n" not in line
    assert "\x1b[" not in line  # no colour unless asked for (a terminal)


def test_colours_only_when_asked() -> None:
    assert "\x1b[33m" in ConsoleFormatter(colour=True).format(_record())


@pytest.mark.parametrize(
    ("requested", "production", "terminal", "chosen"),
    [
        ("", False, True, "console"),
        ("", False, False, "json"),
        ("json", False, True, "json"),
        ("console", False, False, "console"),
        ("console", True, True, "json"),
        ("", True, True, "json"),
    ],
)
def test_the_format_follows_the_profile_and_the_terminal(
    requested: str, production: bool, terminal: bool, chosen: str
) -> None:
    assert log_format(requested=requested, production=production, stdout_is_terminal=terminal) == chosen
