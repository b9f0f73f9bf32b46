"""Process groups of job steps: the one place a group is signalled or checked for life."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

# A member born this long before the step's recorded start still counts as the step's (clock rounding).
BIRTH_SLACK_SECONDS = 2.0


def kill_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to process group ``pgid``; return whether any process received it."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid: int, born_after: datetime | None = None) -> bool:
    """Return whether process group ``pgid`` has a member, one born after ``born_after`` when given."""
    if born_after is None:
        return kill_group(pgid, 0)
    import psutil  # on use: every process loads this module at start-up, the short-lived pipeline child too

    # Guard against a recycled id: only a group with a member born after the step started is the step's.
    since = born_after.timestamp() - BIRTH_SLACK_SECONDS
    for proc in psutil.process_iter(["pid", "create_time"]):
        with contextlib.suppress(ProcessLookupError, PermissionError, psutil.Error):
            if os.getpgid(proc.info["pid"]) == pgid and proc.info["create_time"] >= since:
                return True
    return False
