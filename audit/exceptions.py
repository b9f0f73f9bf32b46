"""Errors of the audit trail (the shared hierarchy lives in ``core.errors``)."""

from __future__ import annotations

from core.errors import ResyncError


class AuditError(ResyncError):
    """Base of audit errors."""

    code = "audit_error"


class AuditUnavailable(AuditError):
    """The trail cannot accept an entry now (buffer full and not draining)."""

    status_code = 503
    code = "audit_unavailable"


class ProofNotAvailable(AuditError):
    """No receipt or proof can be given for what was asked (not sealed yet, archived, no signed tree head)."""

    status_code = 404
    code = "proof_not_available"
