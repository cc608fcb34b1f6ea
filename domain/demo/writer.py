"""Bulk writes of generated rows: COPY on PostgreSQL, large executemany batches on SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from domain.demo.errors import DemoDataError
from domain.demo.rows import NULL_TIME, Column, Kind, Rows, row_count

BATCH_ROWS = 50_000
_PG_NULL = r"\N"
_COPY_SPECIALS = ("\\", "\t", "\n", "\r")


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_texts(values: np.ndarray[Any, Any]) -> list[str]:
    """Text values escaped for COPY, None as NULL."""
    nulls = values == None  # noqa: E711 (elementwise comparison)
    present = values[~nulls] if nulls.any() else values
    if any(special in "\x00".join(present.tolist()) for special in _COPY_SPECIALS):
        values = np.array([None if v is None else _escape(v) for v in values], dtype=object)
    out = values.copy()
    out[nulls] = _PG_NULL
    return list(out.tolist())


def _decimal_text(values: np.ndarray[Any, Any], scale: int) -> np.ndarray[Any, Any]:
    if scale == 0:
        return values.astype(str)
    magnitude = np.abs(values)
    unit = 10**scale
    sign = np.where(values < 0, "-", "")
    whole = (magnitude // unit).astype(str)
    fraction = np.char.zfill((magnitude % unit).astype(str), scale)
    return np.char.add(np.char.add(np.char.add(sign, whole), "."), fraction)


def _render(column: Column, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """COPY text of every value as an object array, NULLs included."""
    if column.kind is Kind.TIME:
        rendered = np.datetime_as_string(values.astype("datetime64[s]"), timezone="UTC")
        nulls = values == NULL_TIME
    elif column.kind is Kind.DATE:
        rendered, nulls = np.datetime_as_string(values), np.isnat(values)
    elif column.kind is Kind.DECIMAL:
        rendered, nulls = _decimal_text(values, column.scale), np.zeros(len(values), bool)
    else:
        rendered, nulls = values.astype(str), (values == 0) & (column.kind is Kind.ID)
    out = rendered.astype(object)
    out[nulls] = _PG_NULL
    return out


def _pg_text(column: Column) -> list[str]:
    """Values in PostgreSQL's COPY text format."""
    values = column.values
    if column.kind in (Kind.TEXT, Kind.JSON):
        return _copy_texts(values)
    if column.kind is Kind.BOOL:
        return np.where(values, "t", "f").tolist()
    if column.kind is Kind.TIME:
        return list(_render(column, values).tolist())
    # Keys, counts, prices and dates repeat a lot: render each distinct value once.
    distinct, inverse = np.unique(values, return_inverse=True)
    if len(distinct) * 4 > len(values):
        return list(_render(column, values).tolist())
    return list(_render(column, distinct)[inverse.reshape(-1)].tolist())


def _sqlite_values(column: Column) -> list[Any]:
    """Values as SQLAlchemy itself stores them in SQLite (timestamps as naive UTC text)."""
    values = column.values
    if column.kind in (Kind.TEXT, Kind.JSON, Kind.INT):
        return list(values.tolist())
    if column.kind is Kind.BOOL:
        return list(values.astype(np.int64).tolist())
    if column.kind is Kind.DECIMAL:
        return list((values / 10**column.scale).tolist())
    if column.kind is Kind.ID:
        out = values.astype(object)
        nulls = values == 0
    elif column.kind is Kind.TIME:
        stamps = np.datetime_as_string(values.astype("datetime64[s]"))
        out = np.char.add(np.char.replace(stamps, "T", " "), ".000000").astype(object)
        nulls = values == NULL_TIME
    else:
        out, nulls = np.datetime_as_string(values).astype(object), np.isnat(values)
    out[nulls] = None
    return list(out.tolist())


def render(dialect: str, rows: Rows) -> Iterator[tuple[int, Any]]:
    """Rows as (row count, batch) pairs: COPY text for PostgreSQL, parameter tuples for SQLite.

    This is the CPU-heavy half of a write and touches no connection, so it can run in a
    worker thread while earlier batches are being written.
    """
    count = row_count(rows)
    for start in range(0, count, BATCH_ROWS):
        stop = min(start + BATCH_ROWS, count)
        # Columns sharing one array (created_at = occurred_at) are rendered once.
        rendered: dict[int, list[Any]] = {}
        columns = []
        for column in rows.values():
            key = id(column.values)
            if key not in rendered:
                part = Column(column.kind, column.values[start:stop], column.scale)
                rendered[key] = _pg_text(part) if dialect == "postgresql" else _sqlite_values(part)
            columns.append(rendered[key])
        if dialect == "postgresql":
            yield stop - start, "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
        else:
            yield stop - start, list(zip(*columns, strict=True))


def write_batches(
    connection: Connection, table: str, columns: Sequence[str], batches: Iterable[tuple[int, Any]]
) -> int:
    """Append rendered batches to the table inside the connection's transaction; count rows."""
    names = ", ".join(f'"{name}"' for name in columns)
    written = 0
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        statement = f'COPY "{table}" ({names}) FROM STDIN'
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for count, batch in batches:
                copy.write(batch)
                written += count
        return written
    marks = ", ".join("?" for _ in columns)
    statement = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    for count, batch in batches:
        connection.exec_driver_sql(statement, batch)
        written += count
    return written


def write_rows(connection: Connection, table: str, rows: Rows) -> int:
    """Render and append rows in one go (for the few small tables); count them."""
    return write_batches(connection, table, tuple(rows), render(connection.dialect.name, rows))


_IN_TABLES = "t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)"


def skip_row_triggers(connection: Connection, tables: list[str]) -> bool:
    """On PostgreSQL, turn off per-row foreign-key triggers for this transaction if allowed.

    Per-row checks cost more than the COPY itself; `verify_references` then checks every
    reference set-wise before commit. Only roles allowed to set session_replication_role
    (superusers) can do this; others simply load with the checks on. Tables with triggers of
    their own keep every trigger, since replica mode would silently skip those too.
    """
    if connection.dialect.name != "postgresql":
        return False
    own_triggers = connection.execute(
        text(
            "SELECT count(*) FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid "
            f"WHERE {_IN_TABLES} AND NOT g.tgisinternal"
        ),
        {"tables": tables},
    ).scalar_one()
    if own_triggers:
        return False
    savepoint = connection.begin_nested()
    try:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def defer_indexes(connection: Connection, tables: list[str]) -> list[str]:
    """On PostgreSQL, drop the tables' indexes that nothing references; return the DDL to rebuild.

    Maintaining a btree row by row costs more than the COPY itself, while building it once
    from the loaded rows is cheap (and checks uniqueness just the same). Primary keys that
    foreign keys point at stay. DDL is transactional: if the load fails, they all come back.
    """
    if connection.dialect.name != "postgresql":
        return []
    constraints = connection.execute(
        text(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            f"JOIN pg_class t ON t.oid = c.conrelid WHERE {_IN_TABLES} "
            "AND c.contype IN ('p', 'u') AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid) "
            "ORDER BY t.relname, c.conname"
        ),
        {"tables": tables},
    ).all()
    indexes = connection.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            f"WHERE {_IN_TABLES} AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY i.relname"
        ),
        {"tables": tables},
    ).all()
    rebuild = []
    # Only the tables' owner may drop their indexes; anybody else loads with them in place.
    savepoint = connection.begin_nested()
    try:
        for table, name, definition in constraints:
            connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
            rebuild.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
            rebuild.append(definition)
    except DBAPIError:
        savepoint.rollback()
        return []
    savepoint.commit()
    return rebuild


def rebuild_indexes(connection: Connection, definitions: list[str]) -> None:
    """Recreate deferred indexes and constraints, with room to sort in memory."""
    if definitions:
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for definition in definitions:
        connection.execute(text(definition))


def verify_references(connection: Connection, tables: list[str]) -> None:
    """Fail unless every foreign key of the tables (as the database defines them) resolves."""
    keys = connection.execute(
        text(
            "SELECT t.relname, a.attname, p.relname, pa.attname FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
            f"WHERE c.contype = 'f' AND {_IN_TABLES} ORDER BY t.relname, a.attname"
        ),
        {"tables": tables},
    ).all()
    for table, column, parent, parent_column in keys:
        dangling = connection.execute(
            text(
                f'SELECT count(*) FROM "{table}" c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
                f'(SELECT 1 FROM "{parent}" p WHERE p."{parent_column}" = c."{column}")'
            )
        ).scalar_one()
        if dangling:
            raise DemoDataError(
                f"generated {dangling} rows of {table}.{column} pointing at no {parent}; "
                "nothing was written"
            )


def advance_sequences(connection: Connection, tables: list[str]) -> None:
    """Move PostgreSQL id sequences past the explicitly written ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT max(id) FROM "{table}"))'
            )
        )
