"""The shared response base: the same answer from a dict or a model instance, and no silent resolvers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from ninja import Field
from pydantic import ValidationError

from core.schemas import Out


class Row(Out):
    id: int
    nome: str = Field(..., alias="name")
    created_at: dt.datetime
    tags: list[str]


def test_a_dict_and_an_object_give_the_same_row() -> None:
    moment = dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.UTC)
    values: dict[str, Any] = {"id": 7, "name": "MAPS", "created_at": moment, "tags": ["a"]}
    from_dict = Row.model_validate(values)
    from_object = Row.model_validate(SimpleNamespace(**values))
    assert from_dict == from_object
    assert from_dict.model_dump() == {"id": 7, "nome": "MAPS", "created_at": moment, "tags": ["a"]}


def test_a_row_that_does_not_fit_is_still_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="created_at"):
        Row.model_validate({"id": 7, "name": "MAPS", "created_at": "not a date", "tags": []})


def test_a_resolver_on_out_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="resolve_label"):

        class WithResolver(Out):
            label: str

            @staticmethod
            def resolve_label(obj: Any) -> str:
                return str(obj)
