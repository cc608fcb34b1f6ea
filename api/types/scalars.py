"""Scalars beyond GraphQL's: 64-bit integers (money in minor units, Telegram ids)."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Long = NewType("Long", int)

SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        serialize=int,
        parse_value=int,
        description="A 64-bit integer, e.g. an amount in minor units (cents) or a Telegram id.",
    )
}


def long_or_none(value: int | None) -> Long | None:
    """The value as a Long, keeping None."""
    return None if value is None else Long(value)
