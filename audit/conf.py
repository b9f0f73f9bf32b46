"""Settings of the audit trail, read in one place with their defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.checks import Error, register

Durability = Literal["sync", "buffered"]

DEFAULTS: dict[str, Any] = {
    # sync: record() returns once the entry is committed; buffered: at once (a crash loses one interval).
    "AUDIT_DURABILITY": "sync",
    "AUDIT_BUFFER_SIZE": 10_000,
    "AUDIT_BACKPRESSURE_SECONDS": 5.0,
    "AUDIT_FLUSH_INTERVAL_SECONDS": 0.5,
    "AUDIT_FLUSH_RETRY_MAX_SECONDS": 5.0,
    "AUDIT_DRAIN_TIMEOUT_SECONDS": 30.0,
    "AUDIT_CHECKPOINT_EVERY": 1000,
    "AUDIT_CHECKPOINT_SECONDS": 60.0,
    "AUDIT_CHECKPOINT_KEEP": 100,
    "AUDIT_CHECKPOINT_DIR": "",  # default: VAR_DIR/audit/checkpoints
    # Every sealing process writes to this one store (a shared directory when there are several machines).
    "AUDIT_CHECKPOINT_SHARED": "true",
    "AUDIT_ARCHIVE_DIR": "",  # default: VAR_DIR/audit/archive
    "AUDIT_RETENTION_DAYS": 365,
    "AUDIT_VERIFY_INTERVAL_SECONDS": 0,  # 0: RESYNC_HEAVY_TASK_INTERVAL_SECONDS
    "AUDIT_FIRST_VERIFY_SECONDS": 60,  # the first verification after a process starts
}


def get(name: str) -> Any:
    """Return the audit setting ``name``: the Django setting, else the environment variable, else the default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return DEFAULTS[name]
    default = DEFAULTS[name]
    try:
        return type(default)(raw) if isinstance(default, int | float) else raw
    except ValueError:
        return raw  # reported by check_settings with the variable's name


def durability() -> Durability:
    """Return the configured durability mode."""
    return "buffered" if get("AUDIT_DURABILITY") == "buffered" else "sync"


def checkpoint_shared() -> bool:
    """Return whether every sealer appends to the same checkpoint store (so every batch has its record there)."""
    return str(get("AUDIT_CHECKPOINT_SHARED")).lower() not in ("false", "0", "no")


def checkpoint_dir() -> Path:
    """Return the checkpoint store: a directory kept apart from the database."""
    configured = get("AUDIT_CHECKPOINT_DIR")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "audit" / "checkpoints"


def archive_dir() -> Path:
    """Return where archive files are written."""
    configured = get("AUDIT_ARCHIVE_DIR")
    return Path(configured) if configured else Path(settings.VAR_DIR) / "audit" / "archive"


def spill_dir() -> Path:
    """Return where entries that could not be committed at shutdown are kept for the next start."""
    return Path(settings.VAR_DIR) / "audit" / "spill"


def first_verify_seconds() -> float:
    """Return how soon after start the first periodic verification runs."""
    return float(get("AUDIT_FIRST_VERIFY_SECONDS"))


def verify_interval() -> float:
    """Return the seconds between periodic verifications."""
    return float(get("AUDIT_VERIFY_INTERVAL_SECONDS") or settings.RESYNC_HEAVY_TASK_INTERVAL_SECONDS)


_POSITIVE = (
    "AUDIT_BUFFER_SIZE",
    "AUDIT_BACKPRESSURE_SECONDS",
    "AUDIT_FLUSH_INTERVAL_SECONDS",
    "AUDIT_FLUSH_RETRY_MAX_SECONDS",
    "AUDIT_DRAIN_TIMEOUT_SECONDS",
    "AUDIT_CHECKPOINT_EVERY",
    "AUDIT_CHECKPOINT_SECONDS",
    "AUDIT_CHECKPOINT_KEEP",
    "AUDIT_RETENTION_DAYS",
)


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Report audit settings an operator must fix."""
    errors: list[Error] = []
    mode = get("AUDIT_DURABILITY")
    if mode not in ("sync", "buffered"):
        errors.append(Error(f"AUDIT_DURABILITY must be 'sync' or 'buffered', not {mode!r}", id="audit.E001"))
    for name in _POSITIVE:
        value = get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            errors.append(Error(f"{name} must be a positive number (got {value!r})", id="audit.E002"))
    return errors
