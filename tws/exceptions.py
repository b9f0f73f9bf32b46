"""Errors of the tws app (messages never carry the TWS password or headers)."""

from __future__ import annotations

from core.errors import ConflictError, NotFoundError, ResyncError


class TWSError(ResyncError):
    """Base of errors talking to HWA."""

    status_code = 502
    code = "tws_error"


class TWSConnectionError(TWSError):
    """HWA could not be reached (refused, reset, DNS)."""

    status_code = 503
    code = "tws_unreachable"


class TWSTimeoutError(TWSConnectionError):
    """HWA did not answer in time."""

    status_code = 504
    code = "tws_timeout"


class TWSTransientError(TWSError):
    """HWA answered 429/502/503/504: worth retrying (``retry_after`` in seconds when given)."""

    status_code = 503
    code = "tws_unavailable"

    def __init__(self, message: str, *, http_status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after = retry_after


class TWSServerError(TWSError):
    """HWA answered 500 or another unexpected status (not retried)."""

    code = "tws_server_error"

    def __init__(self, message: str, *, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status


class TWSAuthenticationError(TWSError):
    """HWA refused the credentials (401/403); never retried."""

    status_code = 502
    code = "tws_authentication_failed"


class TWSNotFoundError(NotFoundError):
    """HWA does not know the object."""

    code = "tws_not_found"


class TWSConflictError(ConflictError):
    """HWA refused the action in the object's current state."""

    code = "tws_conflict"


class TWSBadRequestError(TWSError):
    """HWA rejected the request as malformed (400)."""

    status_code = 400
    code = "tws_bad_request"


class CircuitOpenError(TWSError):
    """The circuit to HWA is open: calls are rejected without reaching it."""

    status_code = 503
    code = "tws_circuit_open"


class AlertNotFound(NotFoundError):
    """No such alert."""

    code = "alert_not_found"


class JobNotFound(NotFoundError):
    """No such job in the synced plan."""

    code = "job_not_found"
