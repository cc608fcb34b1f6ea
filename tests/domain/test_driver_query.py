"""DriverQuery: PostgreSQL runs it on psycopg's cursor; failures look like SQLAlchemy's own."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from domain.db import DriverQuery, make_engine
from tests.conftest import PG_ADMIN_DSN

BACKEND = DriverQuery(sa.select(sa.func.pg_backend_pid()))
RATIO = DriverQuery(
    sa.select(sa.literal(10, sa.Integer()) / sa.bindparam("divisor", type_=sa.Integer()))
)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    yield engine
    engine.dispose()


def test_binds_and_constants_reach_the_statement(engine: Engine) -> None:
    query = DriverQuery(
        sa.select(sa.bindparam("word", type_=sa.String()), sa.literal("constant", sa.String()))
    )
    with Session(engine) as session:
        assert query.rows(session, {"word": "bound"}) == [("bound", "constant")]
        assert query.rows(session, {"word": "again"}) == [("again", "constant")]


def test_a_failing_statement_raises_sqlalchemy_s_error(pg_engine: Engine) -> None:
    with Session(pg_engine) as session:
        assert RATIO.rows(session, {"divisor": 5}) == [(2,)]
        with pytest.raises(DBAPIError) as raised:
            RATIO.rows(session, {"divisor": 0})
    assert isinstance(raised.value.orig, psycopg.errors.DivisionByZero)
    assert not raised.value.connection_invalidated


def test_a_dropped_connection_leaves_the_pool_and_the_next_session_works(
    pg_engine: Engine,
) -> None:
    with Session(pg_engine) as session:
        ((pid,),) = BACKEND.rows(session, {})
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with Session(pg_engine) as session, pytest.raises(DBAPIError) as raised:
        BACKEND.rows(session, {})
    assert raised.value.connection_invalidated
    with Session(pg_engine) as session:
        ((replacement,),) = BACKEND.rows(session, {})
    assert replacement != pid
