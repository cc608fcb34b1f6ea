"""The schema comes only from the migrations, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from domain.channels.defaults import DEFAULT_CHANNELS
from domain.channels.models import Channel
from domain.db import metadata, unit_of_work


def test_migrations_match_models_so_autogenerate_finds_no_difference(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_migrations_create_every_model_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables


def test_default_channels_are_seeded_by_migration(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        codes = set(session.scalars(select(Channel.code)))
    assert codes == {str(code) for code in DEFAULT_CHANNELS}
