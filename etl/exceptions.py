"""Errors of the etl app; the API maps them to ``{"detail", "code"}`` in one place."""

from __future__ import annotations

from core.errors import ConflictError, NotFoundError, ResyncError


class EtlError(ResyncError):
    """Base of etl errors."""

    code = "etl_error"


class InvalidInput(EtlError):
    """A value given by the caller is not acceptable; the message names the field."""

    status_code = 422
    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class SystemNotFound(NotFoundError):
    """No such system."""

    code = "system_not_found"


class JobNotFound(NotFoundError):
    """No such job."""

    code = "job_not_found"


class SystemBusy(ConflictError):
    """The system already has a job pending or running."""

    code = "system_busy"

    def __init__(self, system_code: str, job_id: int) -> None:
        super().__init__(f"system {system_code!r} is already running in job {job_id}")
        self.job_id = job_id


class JobStateConflict(ConflictError):
    """The job is not in a state that allows this."""

    code = "job_state"
