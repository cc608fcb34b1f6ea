"""The schema comes only from the migrations, and they agree with the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.channels.defaults import DEFAULT_CHANNELS
from domain.channels.models import Channel
from domain.customers.queries import CustomerFilter, customer_page
from domain.db import make_engine, metadata, unit_of_work
from domain.migrate import POSTGRES_ONLY_INDEXES, include_object


def test_migrations_match_models_so_autogenerate_finds_no_difference(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_migrations_create_every_model_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_default_channels_are_seeded_by_migration(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        codes = set(session.scalars(select(Channel.code)))
    assert codes == {str(code) for code in DEFAULT_CHANNELS}


def test_customer_search_can_be_answered_from_indexes_on_postgres(pg_url: str) -> None:
    # The search's every alternative has an index, so PostgreSQL need not scan the table
    # (with full scans priced out, the plan shows which indexes it combines).
    engine = make_engine(pg_url)
    executed: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        executed.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            customer_page(session=session, filters=CustomerFilter(search="Kowalczyk"))
        statement, parameters = executed[-1]
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
            plan = "\n".join(
                row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            )
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        engine.dispose()
    assert "Seq Scan on customer" not in plan, plan
    for index in sorted(POSTGRES_ONLY_INDEXES):
        assert index in plan, plan
