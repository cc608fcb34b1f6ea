"""Shared test set-up: real databases built by the migrations, cleaned between tests.

PostgreSQL and Redis are the machine's real servers (see ../shared/SERVICES.md); a test
run creates its own database `lifecycle_test_<random>` and drops it at the end. When a
server is missing the run fails loudly: nothing is skipped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain import migrate
from domain.channels.defaults import DEFAULT_CHANNELS
from domain.db import make_engine, metadata

PG_ADMIN_DSN = os.environ.get(
    "LIFECYCLE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LIFECYCLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
KEEP_TABLES = {"alembic_version", "channel"}


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated to head, dropped at the end."""
    name = f"lifecycle_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN}: {exc}", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for this run, migrated to head."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'lifecycle.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def _engines(request: pytest.FixtureRequest) -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _clean(engine: Engine) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    defaults = tuple(str(code) for code in DEFAULT_CHANNELS)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            metadata.tables["channel"]
            .delete()
            .where(metadata.tables["channel"].c.code.not_in(defaults))
        )


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, _engines: dict[str, Engine]) -> Engine:
    """An engine on a clean, migrated database: each test runs on SQLite and PostgreSQL."""
    kind: str = request.param
    if kind not in _engines:
        url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "pg_url")
        _engines[kind] = make_engine(url)
    _clean(_engines[kind])
    return _engines[kind]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the clean database; commit when the code under test reads via its own."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
