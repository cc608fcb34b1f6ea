"""Set-wise writes and look-ups for imports: one statement per table and batch, never per row."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Column, Table, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from domain.catalog.models import Product
from domain.channels.models import Channel
from domain.customers.models import Consent, Customer
from domain.db import is_postgres
from domain.events.models import Event
from domain.orders.models import Order, OrderLine
from domain.staff.models import Staff


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for statements that need no ORM objects."""
    return cast(Table, inspect(model).local_table)


CHANNEL = table_of(Channel)
CUSTOMER = table_of(Customer)
CONSENT = table_of(Consent)
PRODUCT = table_of(Product)
ORDER = table_of(Order)
ORDER_LINE = table_of(OrderLine)
EVENT = table_of(Event)
STAFF = table_of(Staff)

# Keeps `IN (...)` lists well below SQLite's 32,766 bound parameters per statement.
IN_CHUNK = 5000

K = TypeVar("K")
# Ids remembered per import and table; past this the memo starts over, keeping memory flat.
MEMO_LIMIT = 100_000


def chunked(items: Sequence[K], size: int = IN_CHUNK) -> Iterator[Sequence[K]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_new(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> dict[Any, int]:
    """Insert the rows whose unique `keys` are not taken yet; returns {key: id} of new rows.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING` runs as one executemany (SQLAlchemy's
    insertmanyvalues), so a re-run inserts nothing and reports nothing.
    """
    if not rows:
        return {}
    insert = pg_insert if is_postgres(session) else sqlite_insert
    key_columns = [table.c[key] for key in keys]
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=key_columns)
        .returning(*key_columns, table.c.id)
    )
    result = session.execute(statement, list(rows))
    if len(keys) == 1:
        return {row[0]: row[1] for row in result}
    return {tuple(row[:-1]): row[-1] for row in result}


def insert_all(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that cannot conflict (lines of orders created in the same batch)."""
    if rows:
        session.execute(table.insert(), list(rows))


def ids_by(session: Session, column: Column[Any], values: Collection[Any]) -> dict[Any, int]:
    """{value: id} of the rows of column's table whose column holds one of the values."""
    table = column.table
    found: dict[Any, int] = {}
    ordered = sorted(values)
    for chunk in chunked(ordered):
        statement = select(column, table.c.id).where(column.in_(chunk))
        found.update({row[0]: row[1] for row in session.execute(statement)})
    return found


class IdMemo:
    """Ids by unique key that this import already looked up or created, so later batches
    skip the insert and the look-up for them. Only valid while the import runs: a failed
    batch ends the import, so ids of rolled-back rows are never reused."""

    def __init__(self, column: Column[Any]) -> None:
        self._column = column
        self._ids: dict[Any, int] = {}

    def ids(
        self, session: Session, rows: Mapping[Any, Mapping[str, Any]] | None, keys: Collection[Any]
    ) -> tuple[dict[Any, int], int]:
        """({key: id} for the keys, how many rows were created); with `rows` ({key: row})
        the missing keys are inserted first, without them they are only looked up."""
        found = {key: self._ids[key] for key in keys if key in self._ids}
        missing = [key for key in keys if key not in found]
        created: dict[Any, int] = {}
        if rows is not None and missing:
            created = insert_new(
                session, self._column.table, [rows[key] for key in missing], [self._column.key]
            )
        found.update(created)
        found.update(ids_by(session, self._column, [key for key in missing if key not in created]))
        if len(self._ids) + len(found) > MEMO_LIMIT:
            self._ids.clear()
        self._ids.update(found)
        return found, len(created)
