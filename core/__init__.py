"""The bottom floor: what every app shares and nothing of ours is imported by.

Errors (``core.errors``), the response base and page shape (``core.schemas``), the request context
(``core.context``), redaction (``core.redaction``), the permission and rate checks
(``core.permissions``, ``core.rates``), the sub-minute periodic-task helper (``core.periodic``) and
the key ring (``core.keyring``).
"""
