"""Engine and unit of work: services flush, the edge (request, job, command) commits once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Select, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from domain import jsonfast
from domain.columns import metadata
from domain.settings import get_settings

__all__ = ["DriverQuery", "get_engine", "is_postgres", "make_engine", "metadata", "unit_of_work"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while a worker or an import writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_utc(dbapi_connection: Any, _record: Any) -> None:
    # Every session in UTC: psycopg then reads timestamptz as aware UTC values and
    # UTCDateTime need not convert them one by one. Committed, so a pool reset keeps it.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL, with SQLite's file created and its pragmas set."""
    parsed = make_url(url)
    # JSON columns (score reasons, cross-sell lists, event properties) are parsed on every
    # read of their rows; orjson does it several times faster than the standard library.
    kwargs.setdefault("json_deserializer", jsonfast.loads)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _postgres_utc)
    return engine


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().sqlalchemy_url)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back otherwise."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (for the few dialect-specific statements)."""
    return session.get_bind().dialect.name == "postgresql"


class DriverQuery:
    """A fixed SELECT that PostgreSQL runs straight on psycopg's cursor, prepared once.

    For the hottest reads (the API's look-ups and pages): per execution, SQLAlchemy's cache
    key, result metadata and row objects cost more than the statement itself. This compiles
    the statement once and hands it to the driver. Fit only for statements whose result
    columns need no SQLAlchemy result processing on PostgreSQL (plain scalars, timestamps
    in the session's UTC, JSON parsed by psycopg); elsewhere it runs through SQLAlchemy.
    SQLAlchemy's cursor events do not see these statements: count them at psycopg's cursor.
    """

    def __init__(self, statement: Select[Any], *, elsewhere: Select[Any] | None = None) -> None:
        self.statement = statement
        # What other databases run instead (SQLite has no arrays to bind, say).
        self.elsewhere = statement if elsewhere is None else elsewhere
        self._compiled: tuple[str, dict[str, Any]] | None = None

    def rows(self, session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The result rows as tuples; `params` gives every named bind the statement has."""
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return [tuple(row) for row in connection.execute(self.elsewhere, params)]
        if self._compiled is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            # Constants in the statement (an enum value, say) travel as binds of their own.
            self._compiled = (compiled.string, dict(compiled.params))
        sql, constants = self._compiled
        bound = {**constants, **params}
        driver = connection.connection.driver_connection
        dbapi_error: type[Exception] = connection.dialect.loaded_dbapi.Error
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, bound, prepare=True)
            return cursor.fetchall()
        except dbapi_error as error:
            # As SQLAlchemy would: a dropped connection leaves the pool, and the error
            # arrives wrapped like every other database error.
            gone = connection.dialect.is_disconnect(cast(Any, error), driver, cursor)
            if gone:
                connection.invalidate(error)
            raise DBAPIError.instance(
                sql,
                bound,
                error,
                dbapi_error,
                hide_parameters=connection.engine.hide_parameters,
                connection_invalidated=gone,
                dialect=connection.dialect,
            ) from error
        finally:
            cursor.close()
