"""Health of the feature flags as this process sees them."""

from __future__ import annotations

import time
from typing import Any

from cachemig import flags
from cachemig.flags.evaluation import current_snapshot


def check_flags() -> dict[str, Any]:
    """Report where this process's flags come from, how old they are, and active overrides."""
    snap = current_snapshot()
    overrides = {name: flags.env_override(name) for name in snap.flags}
    active = {name: value for name, value in overrides.items() if value != "unset"}
    return {
        "status": "ok" if snap.source == "database" else "degraded",
        "detail": f"{len(snap.flags)} flags from the {snap.source}",
        "age_seconds": round(time.monotonic() - snap.loaded_at, 2),
        "env_overrides": active,
    }
