"""Validate a positions CSV (every row, with its line number) before anything is loaded."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

COLUMNS = ("fundo", "ativo", "quantidade", "preco", "valor", "data")


class MalformedReport(Exception):
    """A report that cannot be loaded; the message names the line."""


@dataclass(frozen=True)
class PositionRow:
    """One validated row of a positions report."""

    fund: str
    asset: str
    quantity: Decimal
    price: Decimal
    value: Decimal
    date: dt.date


def _decimal(line: int, column: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise MalformedReport(f"line {line}: column {column!r} is not a number: {raw[:40]!r}") from None
    if not value.is_finite():
        raise MalformedReport(f"line {line}: column {column!r} is not a finite number")
    return value


def parse_positions(text: str, *, start: dt.date, end: dt.date) -> list[PositionRow]:
    """Return the rows of ``text`` or raise ``MalformedReport`` naming the first bad line."""
    reader = csv.reader(io.StringIO(text), delimiter=";")
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != COLUMNS:
        raise MalformedReport(f"line 1: header must be {';'.join(COLUMNS)}, not {';'.join(header or [])[:80]!r}")
    rows: list[PositionRow] = []
    for number, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(COLUMNS):
            raise MalformedReport(f"line {number}: expected {len(COLUMNS)} columns, found {len(cells)}")
        fund, asset = cells[0].strip(), cells[1].strip()
        if not fund or not asset:
            raise MalformedReport(f"line {number}: 'fundo' and 'ativo' are required")
        try:
            date = dt.date.fromisoformat(cells[5].strip())
        except ValueError:
            raise MalformedReport(f"line {number}: column 'data' is not a date: {cells[5][:20]!r}") from None
        if not start <= date <= end:
            raise MalformedReport(f"line {number}: date {date} is outside {start}..{end}")
        rows.append(
            PositionRow(
                fund=fund,
                asset=asset,
                quantity=_decimal(number, "quantidade", cells[2]),
                price=_decimal(number, "preco", cells[3]),
                value=_decimal(number, "valor", cells[4]),
                date=date,
            )
        )
    return rows
