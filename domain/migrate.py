"""Run the alembic migrations from code (the CLI, the demo and the tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
# Indexes the migrations create on PostgreSQL only (customer search, see migration 0004):
# the models do not declare them, so autogenerate must not propose dropping them.
POSTGRES_ONLY_INDEXES = frozenset(
    {"ix_customer_name_trgm", "ix_customer_email_pattern", "ix_customer_phone_pattern"}
)


def include_object(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """What autogenerate compares: everything but the PostgreSQL-only indexes."""
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


def alembic_config(url: str | None = None) -> Config:
    """The project's alembic config, optionally pointed at a given database URL."""
    config = Config(str(ALEMBIC_INI))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database behind the engine to the given revision."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
