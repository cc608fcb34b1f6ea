"""Flat input types build the same values as strawberry's field-by-field conversion."""

from datetime import datetime
from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON

from api.inputs import flat_input


def _schema(input_type: type) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def echo(self, items: list[input_type]) -> JSON:  # type: ignore[valid-type]
            return [
                {name: repr(getattr(item, name)) for name in sorted(vars(item))} for item in items
            ]

    return strawberry.Schema(query=Query)


def _visit() -> type:
    @strawberry.input
    class Visit:
        key: str
        at: datetime
        customer_id: strawberry.ID | None = None
        note: str | None = "none given"
        properties: JSON | None = None

    return Visit


def _echo(schema: strawberry.Schema, items: list[dict[str, Any]]) -> Any:
    result = schema.execute_sync(
        "query($items: [Visit!]!){echo(items: $items)}", variable_values={"items": items}
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["echo"]


def test_a_flat_input_builds_what_strawberry_builds_field_by_field() -> None:
    items = [
        {"key": "a", "at": "2026-11-25T10:00:00+00:00"},
        {"key": "b", "at": "2026-11-25T10:00:00Z", "customerId": 7, "note": None},
        {"key": "c", "at": "2026-11-25T10:00:00+01:00", "properties": {"page": [1, "x"]}},
    ]

    expected = _echo(_schema(_visit()), items)
    flat = _echo(_schema(flat_input(_visit())), items)

    assert flat == expected
    assert flat[0]["note"] == repr("none given")
    assert flat[1]["customer_id"] == repr("7")


def test_an_input_with_a_nested_input_field_is_refused_as_not_flat() -> None:
    @strawberry.input
    class Line:
        sku: str

    @strawberry.input
    class Order:
        lines: list[Line]

    with pytest.raises(TypeError, match=r"Order\.lines is not a scalar field"):
        flat_input(Order)
