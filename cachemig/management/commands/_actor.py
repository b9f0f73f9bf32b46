"""Who a management command acts as, for audit entries."""

from __future__ import annotations

import getpass


def cli_actor() -> str:
    """Return the actor label of the operator running the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
