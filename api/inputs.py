"""Input types whose values are built in one step instead of field by field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryOptional, get_object_definition
from strawberry.utils.str_converters import to_camel_case

T = TypeVar("T")

# Types graphql-core has already parsed into their Python values when strawberry sees them.
_LEAVES: tuple[object, ...] = (str, int, float, bool, datetime, strawberry.ID, JSON)


def flat_input(cls: type[T]) -> type[T]:
    """Build this input type straight from the parsed input value (its fields are scalars).

    strawberry converts an input object field by field, resolving each field's type again
    for every value; in a batch of a thousand events that was a quarter of the request.
    Scalar fields need no conversion, so one call with the parsed values builds the same
    object (strawberry's `from_input` hook, made for integrations that build their own).
    """
    definition = get_object_definition(cls, strict=True)
    names: list[tuple[str, str]] = []
    for field in definition.fields:
        kind = field.type.of_type if isinstance(field.type, StrawberryOptional) else field.type
        if kind not in _LEAVES:
            raise TypeError(f"{cls.__name__}.{field.python_name} is not a scalar field")
        names.append((field.graphql_name or to_camel_case(field.python_name), field.python_name))

    def build(target: type[T], value: Mapping[str, Any], _: InputContext) -> T:
        return target(**{python: value[graphql] for graphql, python in names if graphql in value})

    definition.from_input = build
    return cls
