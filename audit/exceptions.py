"""Errors of the audit floor; ``status_code`` and ``code`` map them to HTTP in one place."""

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


class AuditError(ResyncError):
    """Base of audit errors."""

    code = "audit_error"


class AuditUnavailable(AuditError):
    """The trail cannot accept an entry now (buffer full and not draining)."""

    status_code = 503
    code = "audit_unavailable"


class KeyRingError(AuditError):
    """The key ring is missing, malformed, or lacks a key."""

    status_code = 500
    code = "keyring_error"
