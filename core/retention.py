"""Purge old rows in batches, each batch with the proof of what it removed.

The proof of a batch is its row count, its first and last primary key and a digest: SHA-256 over one
line per removed row, in primary-key order, each line the JSON array ``[pk, field, ...]`` (values as
``str()`` where JSON has no type, no spaces, UTF-8) followed by ``\\n``. Anyone holding a backup can
recompute it and tell a purge from a tampering (docs/operations.md, "Retention").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Max, Min

DIGEST_FORMAT = "sha256 of [pk, *fields] JSON lines in pk order"


@dataclass(frozen=True, slots=True)
class Purged:
    """What one batch removed (or, dry, would remove) from ``table``."""

    table: str
    count: int
    first_id: int | None
    last_id: int | None
    digest: str = ""
    fields: tuple[str, ...] = ()

    def as_data(self) -> dict[str, Any]:
        """Return the batch as an audit entry's data."""
        return {**asdict(self), "fields": list(self.fields), "digest_format": DIGEST_FORMAT}


def rows_digest(rows: Iterable[Sequence[Any]]) -> str:
    """Return the hex SHA-256 of ``rows`` as the module docstring defines it."""
    digest = hashlib.sha256()
    for row in rows:
        line = json.dumps(list(row), default=str, ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def purge_batch(queryset: models.QuerySet[Any], *, fields: Sequence[str], batch_size: int) -> tuple[Purged, list[Any]]:
    """Delete the first ``batch_size`` rows of ``queryset`` in primary-key order; call it inside a transaction.

    Return what went and the removed rows (``[pk, *fields]``); a batch with ``count`` 0 means nothing is due.
    """
    model = queryset.model
    rows = list(queryset.order_by("pk").values_list("pk", *fields)[:batch_size])
    ids = [row[0] for row in rows]
    if ids:
        model._base_manager.filter(pk__in=ids).delete()
    purged = Purged(
        table=model._meta.db_table,
        count=len(rows),
        first_id=ids[0] if ids else None,
        last_id=ids[-1] if ids else None,
        digest=rows_digest(rows) if rows else "",
        fields=tuple(fields),
    )
    return purged, rows


def purge_preview(queryset: models.QuerySet[Any]) -> Purged:
    """Return what purging ``queryset`` would remove (no digest: nothing is read row by row)."""
    found = queryset.aggregate(count=Count("pk"), first=Min("pk"), last=Max("pk"))
    return Purged(
        table=queryset.model._meta.db_table, count=found["count"], first_id=found["first"], last_id=found["last"]
    )


def purge_until_done(purge_one: Callable[[], Purged]) -> list[Purged]:
    """Call ``purge_one`` (one batch, one transaction) until a batch finds nothing due; return the batches."""
    batches = []
    while (purged := purge_one()).count:
        batches.append(purged)
    return batches
