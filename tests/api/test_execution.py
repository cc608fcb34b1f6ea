"""The lean executor answers plain reads itself and gives graphql-core's exact results."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.execution import NOT_FETCHED, PREFETCHED, LeanExecutionContext, NotFetched


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    name: str
    size: int | None


loads: list[str] = []


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    colour: Colour
    note: str | None
    required: str
    leaf: Leaf | None
    required_leaf: Leaf
    fetched_leaf: strawberry.Private[Leaf | NotFetched | None] = NOT_FETCHED

    @strawberry.field(metadata={PREFETCHED: "fetched_leaf"})
    async def lazy(self) -> Leaf | None:
        loads.append(self.name)
        return Leaf(name=f"loaded {self.name}", size=None)

    @strawberry.field
    def shout(self) -> str:
        if self.name == "boom":
            raise ValueError("no shouting at boom")
        return self.name.upper()


def item(name: str, **overrides: Any) -> Item:
    values: dict[str, Any] = {
        "id": strawberry.ID(name),
        "name": name,
        "colour": Colour.RED,
        "note": None,
        "required": "yes",
        "leaf": Leaf(name=f"{name} leaf", size=3),
        "required_leaf": Leaf(name="always", size=None),
    }
    values.update(overrides)
    return Item(**values)


ITEMS: list[Item] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS


def schema(context_class: type[StrawberryGraphQLCoreExecutionContext]) -> strawberry.Schema:
    return strawberry.Schema(query=Query, execution_context_class=context_class)


LEAN = schema(LeanExecutionContext)
PLAIN = schema(StrawberryGraphQLCoreExecutionContext)
EVERYTHING = """{ items { id name colour note required shout
  leaf { name size } requiredLeaf { name } lazy { name size } } }"""


async def both(query: str) -> tuple[Any, Any]:
    """The lean and the plain executor's results, as dicts."""
    lean = await LEAN.execute(query)
    plain = await PLAIN.execute(query)
    return lean, plain


def as_dict(result: Any) -> dict[str, Any]:
    errors = [(e.message, e.path) for e in result.errors or []]
    return {"data": result.data, "errors": errors}


@pytest.fixture(autouse=True)
def _fresh() -> None:
    ITEMS.clear()
    loads.clear()


async def test_plain_fields_give_the_same_values_as_graphql_core() -> None:
    ITEMS.extend([item("a"), item("b", colour=Colour.BLUE, note="hi", leaf=None)])
    lean, plain = await both(EVERYTHING)
    assert as_dict(lean) == as_dict(plain)
    assert lean.data["items"][1] == {
        "id": "b",
        "name": "b",
        "colour": "BLUE",
        "note": "hi",
        "required": "yes",
        "shout": "B",
        "leaf": None,
        "requiredLeaf": {"name": "always"},
        "lazy": {"name": "loaded b", "size": None},
    }


async def test_a_null_in_a_non_null_field_is_the_same_error_at_the_same_path() -> None:
    ITEMS.extend([item("a"), item("b", required=None)])
    lean, plain = await both(EVERYTHING)
    assert as_dict(lean) == as_dict(plain)
    assert as_dict(lean)["errors"] == [
        ("Cannot return null for non-nullable field Item.required.", ["items", 1, "required"])
    ]


async def test_a_value_that_does_not_coerce_is_the_same_error() -> None:
    ITEMS.append(item("a", colour="mauve", leaf=Leaf(name="x", size="big")))  # type: ignore[arg-type]
    lean, plain = await both("{ items { leaf { name size } } }")
    assert as_dict(lean) == as_dict(plain)
    assert lean.data == {"items": [{"leaf": {"name": "x", "size": None}}]}
    assert as_dict(lean)["errors"] == [
        ("Int cannot represent non-integer value: 'big'", ["items", 0, "leaf", "size"])
    ]
    lean, plain = await both("{ items { name colour } }")
    assert as_dict(lean) == as_dict(plain)
    assert as_dict(lean)["errors"] == [
        ("Enum 'Colour' cannot represent value: 'mauve'", ["items", 0, "colour"])
    ]


async def test_an_error_inside_a_plain_object_nulls_the_object_as_graphql_core_does() -> None:
    ITEMS.append(item("a", required_leaf=Leaf(name=None, size=1)))  # type: ignore[arg-type]
    lean, plain = await both("{ items { name requiredLeaf { name } } }")
    assert as_dict(lean) == as_dict(plain)
    assert lean.data is None


async def test_resolver_errors_keep_their_path() -> None:
    ITEMS.extend([item("a"), item("boom")])
    lean, plain = await both("{ items { name shout } }")
    assert as_dict(lean) == as_dict(plain)
    assert as_dict(lean)["errors"] == [("no shouting at boom", ["items", 1, "shout"])]


async def test_a_prefetched_value_is_answered_without_its_resolver() -> None:
    ITEMS.extend(
        [item("a", fetched_leaf=Leaf(name="from the row", size=2)), item("b", fetched_leaf=None)]
    )
    lean = await LEAN.execute("{ items { lazy { name size } } }")
    assert lean.data == {"items": [{"lazy": {"name": "from the row", "size": 2}}, {"lazy": None}]}
    assert loads == []


async def test_a_value_not_fetched_is_loaded_by_the_resolver() -> None:
    ITEMS.append(item("a"))
    lean = await LEAN.execute("{ items { lazy { name } } }")
    assert lean.data == {"items": [{"lazy": {"name": "loaded a"}}]}
    assert loads == ["a"]


async def test_aliases_and_typename_are_answered() -> None:
    ITEMS.append(item("a"))
    query = "{ items { first: name again: name __typename leaf { __typename size } } }"
    lean, plain = await both(query)
    assert as_dict(lean) == as_dict(plain)
    assert lean.data == {
        "items": [
            {
                "first": "a",
                "again": "a",
                "__typename": "Item",
                "leaf": {"__typename": "Leaf", "size": 3},
            }
        ]
    }
