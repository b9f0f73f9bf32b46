"""The error hierarchy every floor raises; ``status_code`` and ``code`` map them to HTTP in one place."""

from __future__ import annotations


class ResyncError(Exception):
    """Base of every domain error; the API maps it to ``{"detail", "code"}``."""

    status_code = 400
    code = "error"


class NotFoundError(ResyncError):
    """A requested object does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(ResyncError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class PermissionDeniedError(ResyncError):
    """The acting user may not do this."""

    status_code = 403
    code = "forbidden"


class PayloadTooLarge(ResyncError):
    """The request body is larger than the limit."""

    status_code = 413
    code = "payload_too_large"


class RateLimited(ResyncError):
    """The acting user spent the budget of a scope; ``retry_after`` seconds until it refills."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class KeyRingError(ResyncError):
    """The key ring is missing, malformed, or lacks a key."""

    status_code = 500
    code = "keyring_error"
