"""Load the positions a pipeline step validated into the portfolio (the worker's side of the hand-off)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction

from etl.models import Fund, Position, System

# One position as the pipeline hands it over (etl.pipeline.positions.PositionRow, as JSON).
POSITION_FIELDS = ("fund", "asset", "quantity", "price", "value", "date")


def _position(raw: Mapping[str, Any]) -> tuple[str, str, Decimal, Decimal, Decimal, dt.date]:
    return (
        str(raw["fund"]),
        str(raw["asset"]),
        Decimal(str(raw["quantity"])),
        Decimal(str(raw["price"])),
        Decimal(str(raw["value"])),
        dt.date.fromisoformat(str(raw["date"])),
    )


@transaction.atomic
def positions_load(
    *, system_code: str, rows: Iterable[Mapping[str, Any]], job_id: int | None
) -> tuple[int, dict[str, int]]:
    """Replace the positions of ``system_code`` on the dates of ``rows`` with those of configured funds.

    Return how many were loaded and, per fund nobody configured, how many rows were left out: funds
    are created only by people, through the services, never behind the operator's back.
    """
    parsed = [_position(r) for r in rows]
    target = System.objects.get(code=system_code)
    funds = {f.code: f for f in Fund.objects.filter(system=target)}
    unknown: dict[str, int] = {}
    for row in parsed:
        if row[0] not in funds:
            unknown[row[0]] = unknown.get(row[0], 0) + 1
    Position.objects.filter(system=target, date__in={p[5] for p in parsed}).delete()
    merged = {(p[0], p[1], p[5]): p for p in parsed if p[0] in funds}
    Position.objects.bulk_create(
        [
            Position(
                system=target,
                fund=funds[fund],
                asset=asset,
                quantity=quantity,
                price=price,
                value=value,
                date=date,
                job_id=job_id,
            )
            for fund, asset, quantity, price, value, date in merged.values()
        ]
    )
    return len(merged), unknown
