"""Many rows passed as one JSON parameter and read back as a table, on PostgreSQL and SQLite.

A statement over a batch of rows (customers and their moments, stage moves) needs them as a
table. A temporary table costs DDL and catalogue writes on every use, and psycopg takes
longer to dump an array per column than PostgreSQL takes to run the statement; one JSON
document costs one `json.dumps` and is unpacked by the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.clock import as_utc


def json_table(*, postgres: bool, param: str, columns: Sequence[tuple[str, str]]) -> str:
    """A derived table (for FROM or JOIN) of the JSON array bound to `:param`.

    `columns` are (name, PostgreSQL type) pairs; each array item is an object keyed by
    column name. On SQLite the values keep their JSON types: integers, reals and text
    (datetimes as written by `json_document`).
    """
    if postgres:
        spec = ", ".join(f"{name} {kind}" for name, kind in columns)
        return f"(SELECT * FROM jsonb_to_recordset(CAST(:{param} AS JSONB)) AS r({spec}))"
    picks = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name, _ in columns)
    return f"(SELECT {picks} FROM json_each(:{param}))"


def json_ids(*, postgres: bool, param: str) -> str:
    """A subquery of the integers in the JSON array bound to `:param`, for `IN (...)`."""
    if postgres:
        return f"(SELECT CAST(jsonb_array_elements_text(CAST(:{param} AS JSONB)) AS BIGINT))"
    return f"(SELECT value FROM json_each(:{param}))"


def json_document(rows: Iterable[Mapping[str, Any]], *, postgres: bool) -> str:
    """The JSON array for `json_table`: datetimes written the way each database compares them
    (ISO 8601 for PostgreSQL; the UTC text SQLite columns hold)."""
    return json.dumps(
        list(rows), separators=(",", ":"), default=_timestamp if postgres else _sqlite_timestamp
    )


def _timestamp(value: object) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sqlite_timestamp(value: object) -> str:
    if isinstance(value, datetime):
        # SQLAlchemy's storage format for SQLite DATETIME columns.
        return as_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
