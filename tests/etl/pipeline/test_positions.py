"""Validation of positions reports: every bad row named by its line number, nothing half-accepted."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.pipeline.positions import MalformedReport, parse_positions

DAY = dt.date(2025, 1, 15)
HEADER = "fundo;ativo;quantidade;preco;valor;data\n"


def _parse(body: str) -> list:
    return parse_positions(HEADER + body, start=DAY, end=DAY)


def test_valid_rows_are_parsed() -> None:
    rows = _parse("F1;PETR4;100;10.5;1050.00;2025-01-15\n\nF1;VALE3;2;1;2;2025-01-15\n")
    assert [(r.fund, r.asset, str(r.value)) for r in rows] == [("F1", "PETR4", "1050.00"), ("F1", "VALE3", "2")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("F1;PETR4;abc;1;1;2025-01-15\n", "line 2: column 'quantidade' is not a number"),
        ("F1;PETR4;1;1;1;2025-01-15\nF1;VALE3;1;1\n", "line 3: expected 6 columns, found 4"),
        ("F1;PETR4;1;1;1;15/01/2025\n", "line 2: column 'data' is not a date"),
        ("F1;PETR4;1;1;1;2025-02-01\n", "line 2: date 2025-02-01 is outside"),
        (";PETR4;1;1;1;2025-01-15\n", "line 2: 'fundo' and 'ativo' are required"),
        ("F1;PETR4;1;NaN;1;2025-01-15\n", "line 2: column 'preco' is not a finite number"),
    ],
)
def test_malformed_rows_are_reported_with_their_line_number(body: str, message: str) -> None:
    with pytest.raises(MalformedReport, match=message):
        _parse(body)


def test_a_wrong_header_is_line_1() -> None:
    with pytest.raises(MalformedReport, match="line 1: header must be"):
        parse_positions("a;b\n", start=DAY, end=DAY)
