"""Read queries of the audit trail."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from audit.models import AuditEntry


def entries_filter(
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    seq_from: int | None = None,
    search: str | None = None,
) -> QuerySet[AuditEntry]:
    """Return sealed entries matching every given filter, in chain order."""
    queryset = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    if actor:
        queryset = queryset.filter(actor=actor)
    if action:
        # "etl." selects a whole family of actions; a full name selects one.
        queryset = (
            queryset.filter(action__startswith=action) if action.endswith(".") else queryset.filter(action=action)
        )
    if target:
        queryset = queryset.filter(target=target)
    if since is not None:
        queryset = queryset.filter(timestamp__gte=since)
    if until is not None:
        queryset = queryset.filter(timestamp__lt=until)
    if seq_from is not None:
        queryset = queryset.filter(seq__gte=seq_from)
    if search:
        queryset = queryset.filter(
            Q(actor__icontains=search) | Q(action__icontains=search) | Q(target__icontains=search)
        )
    return queryset
