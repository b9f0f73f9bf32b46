"""Errors of cachemig; ``status_code`` and ``code`` map them to HTTP in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import ConflictError, NotFoundError, ResyncError

if TYPE_CHECKING:
    from cachemig.flags.registry import GuardReport


class UnknownFlagError(ResyncError):
    """A flag name was evaluated that no row defines (raised in tests only)."""

    status_code = 500
    code = "unknown_flag"


class FlagNotFound(NotFoundError):
    """No flag has this name."""

    code = "flag_not_found"


class RolloutConflict(ConflictError):
    """The requested change does not fit the flag's current state or plan."""

    code = "rollout_conflict"


class GateRefused(ConflictError):
    """The guard's figures do not allow the next stage."""

    code = "gate_refused"

    def __init__(self, message: str, *, report: GuardReport | None) -> None:
        super().__init__(message)
        self.report = report


class FlagInvalid(ResyncError):
    """The flag's fields do not validate (name shape, plan, percent)."""

    status_code = 422
    code = "invalid_flag"
