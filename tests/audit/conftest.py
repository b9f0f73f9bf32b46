"""Fixtures of the audit tests: a fresh writer per test and helpers to drive the chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def fresh_writer(settings: Any) -> Iterator[Any]:
    """Give each test a new in-process writer and checkpoint directory."""
    from audit import writer as writer_module

    settings.AUDIT_CHECKPOINT_DIR = str(settings.VAR_DIR / "audit-checkpoints" / str(id(settings)))
    previous = writer_module._writer
    writer_module._writer = writer_module.AuditWriter()
    yield writer_module._writer
    writer_module._writer = previous
