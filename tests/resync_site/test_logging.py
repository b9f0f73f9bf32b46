"""JSON logs: one object per line, correlation ids, secrets masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.context import correlation_scope
from core.redaction import register_secret
from resync_site.logging import ContextFilter, JsonFormatter, RedactionFilter


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger("resync.test.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_standard_fields(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    with correlation_scope("req-42"):
        logger.info("job %s started", 7, extra={"job_id": 7})
    (line,) = _lines(stream)
    assert line["msg"] == "job 7 started"
    assert line["level"] == "INFO"
    assert line["logger"] == "resync.test.capture"
    assert line["correlation_id"] == "req-42"
    assert line["job_id"] == 7
    assert str(line["ts"]).endswith("+00:00")


def test_sensitive_keys_and_registered_secrets_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    register_secret("s3cr3t-tws-pass")
    logger.warning(
        "login to %s failed with s3cr3t-tws-pass",
        "tws",
        extra={"password": "hunter2-body", "payload": {"username": "u", "api_key": "k-123456"}},
    )
    try:
        raise RuntimeError("connect failed for user:s3cr3t-tws-pass@host")
    except RuntimeError:
        logger.exception("boom")
    text = stream.getvalue()
    for secret in ("s3cr3t-tws-pass", "hunter2-body", "k-123456"):
        assert secret not in text
    first, second = _lines(stream)
    assert first["password"] == "***"
    assert first["payload"] == {"username": "u", "api_key": "***"}
    assert "***" in str(second["exc_info"])


def test_a_message_with_bad_format_arguments_is_still_logged(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("%s and %s", "only-one")
    (line,) = _lines(stream)
    assert "only-one" in str(line["msg"])
