"""Retention across the apps: what the periodic task and ``manage.py retention`` purge, in one place."""

from __future__ import annotations

from core.retention import Purged
from etl.services import log_lines_purge
from tws.services.retention import history_purge


def retention_run(*, dry_run: bool = False) -> list[Purged]:
    """Purge (or with ``dry_run`` preview) every table with a retention; return the batches."""
    return [*log_lines_purge(dry_run=dry_run), *history_purge(dry_run=dry_run)]
