"""Who a management command acts as, for audit entries."""

from __future__ import annotations

import getpass
import os


def cli_actor() -> str:
    """Return the actor label of the operator running the command (the person behind sudo, when there is one)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    # The runbooks run commands as the service account (sudo -u resync): record who asked for it.
    behind = os.environ.get("SUDO_USER", "")
    if behind and behind != user:
        return f"cli:{behind} (as {user})"
    return f"cli:{user}"
