"""Writing suggestions in bulk; a dedupe key already taken is skipped, never duplicated."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from domain.db import is_postgres
from domain.suggestions.models import Suggestion

# Rows handed to one executemany; bounds the memory of the rows built in Python.
CHUNK_ROWS = 5000
TABLE: Table = Suggestion.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Written:
    """A suggestion just created, with what decides whether it is worth an alert."""

    id: int
    priority: int


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK_ROWS)):
        yield chunk


def _insert(session: Session) -> Any:
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(TABLE)


def insert_rows(*, session: Session, rows: Iterable[dict[str, Any]]) -> list[Written]:
    """Insert suggestion rows, ignoring any whose dedupe key exists; return those written."""
    statement = (
        _insert(session)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(TABLE.c.id, TABLE.c.priority)
    )
    written: list[Written] = []
    for chunk in _chunks(rows):
        # Executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs itself
        # ("insertmanyvalues") and compiles the statement once.
        written.extend(Written(id=i, priority=p) for i, p in session.execute(statement, chunk))
    return written


def insert_from_select(
    *, session: Session, names: Sequence[str], query: Select[Any]
) -> list[Written]:
    """Insert the suggestions a query produces, all in one statement, skipping taken keys."""
    statement = (
        _insert(session)
        .from_select(list(names), query)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(TABLE.c.id, TABLE.c.priority)
    )
    return [Written(id=i, priority=p) for i, p in session.execute(statement)]
