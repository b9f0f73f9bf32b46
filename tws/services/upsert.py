"""Set-based upserts: one prepared INSERT ... ON CONFLICT run with executemany.

``bulk_create(update_conflicts=True)`` spends ~0.3 ms per row compiling SQL in
the ORM, which alone is over the 20 s budget of a 150,000-job sync; the same
statement through ``executemany`` takes a few microseconds per row. The SQL is
the same on SQLite (3.24+) and PostgreSQL (see docs/decisions/tws-raw-upsert.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

CHUNK = 5000


def db_datetime(value: datetime | None) -> Any:
    """Return ``value`` as the database driver expects it (None stays None)."""
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def upsert(
    model: type[models.Model], *, columns: Sequence[str], rows: Sequence[Sequence[Any]], unique: str | None
) -> int:
    """Insert ``rows``; on a conflict on ``unique`` update the other columns (``unique=None``: skip the row)."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    cols = ", ".join(qn(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    if unique is None:
        tail = "ON CONFLICT DO NOTHING"
    else:
        updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in columns if c != unique)
        tail = f"ON CONFLICT ({qn(unique)}) DO UPDATE SET {updates}"
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks}) {tail}"  # noqa: S608 — names are ours
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])
    return len(rows)
