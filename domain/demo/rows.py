"""Generated rows of one table as typed column arrays, ready for a bulk write."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

NULL_TIME = 0  # the epoch itself never occurs in demo data, so it stands for NULL


class Kind(StrEnum):
    """How a column's values are stored."""

    ID = "id"  # int64, 0 for NULL
    INT = "int"  # int64
    TEXT = "text"  # object array of str or None
    TIME = "time"  # int64 seconds since the epoch (UTC), NULL_TIME for NULL
    DATE = "date"  # datetime64[D], NaT for NULL
    BOOL = "bool"
    DECIMAL = "decimal"  # int64 in units of 10^-scale
    JSON = "json"  # object array of JSON texts


@dataclass(frozen=True)
class Column:
    """The values of one column and how to store them."""

    kind: Kind
    values: np.ndarray[Any, Any]
    scale: int = 0


Rows = dict[str, Column]


def row_count(rows: Rows) -> int:
    """Number of rows in a column batch."""
    return len(next(iter(rows.values())).values)


def ids(values: np.ndarray[Any, Any]) -> Column:
    """A key column (0 means NULL)."""
    return Column(Kind.ID, np.asarray(values, dtype=np.int64))


def ints(values: np.ndarray[Any, Any]) -> Column:
    """A plain integer column."""
    return Column(Kind.INT, np.asarray(values, dtype=np.int64))


def texts(values: np.ndarray[Any, Any]) -> Column:
    """A text column (None means NULL)."""
    return Column(Kind.TEXT, np.asarray(values, dtype=object))


def times(values: np.ndarray[Any, Any]) -> Column:
    """A UTC timestamp column in epoch seconds (NULL_TIME means NULL)."""
    return Column(Kind.TIME, np.asarray(values, dtype=np.int64))


def dates(values: np.ndarray[Any, Any]) -> Column:
    """A date column (NaT means NULL)."""
    return Column(Kind.DATE, np.asarray(values, dtype="datetime64[D]"))


def bools(values: np.ndarray[Any, Any]) -> Column:
    """A boolean column."""
    return Column(Kind.BOOL, np.asarray(values, dtype=bool))


def decimals(values: np.ndarray[Any, Any], scale: int) -> Column:
    """An exact decimal column given in units of 10^-scale."""
    return Column(Kind.DECIMAL, np.asarray(values, dtype=np.int64), scale)


def jsons(values: np.ndarray[Any, Any]) -> Column:
    """A JSON column of already rendered JSON texts."""
    return Column(Kind.JSON, np.asarray(values, dtype=object))
