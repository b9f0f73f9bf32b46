"""Fixtures of the audit tests: a fresh writer per test and helpers to drive the chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def fresh_writer(settings: Any, tmp_path: Path) -> Iterator[Any]:
    """Give each test a new in-process writer, checkpoint store and spill directory."""
    from audit import writer as writer_module
    from audit.checkpoints import store_forget

    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "audit-checkpoints")
    previous = writer_module._writer
    writer_module._writer = writer_module.AuditWriter()
    store_forget()
    yield writer_module._writer
    writer_module._writer = previous
    store_forget()
