"""customer: indexes so that searching by name, email or phone reads an index

`customers(filter: {search: ...})` (and the bot's /find) matches a name anywhere in it and
an email or phone by its start. Without an index, a rare or missing name scans every
customer: 1.3 s on a million. A pg_trgm GIN index answers the name, B-tree pattern indexes
the email (case-folded) and phone prefixes, the unique index the external id, and
PostgreSQL combines them (BitmapOr): 0.3 ms. PostgreSQL only; SQLite installations are
small enough to scan. Building them locks writes to `customer` for a few seconds (about 2 s
per million customers).

Only the name gets a GIN index: a stage change rewrites the customer's row and every index
gets an entry for it, and a GIN entry per trigram costs several times a B-tree entry (three
GIN indexes put 90 ms on a batch of 1,000 events that moves 400 customers).

pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since PostgreSQL 13: the
database owner may create it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_customer_name_trgm": "USING gin (name gin_trgm_ops)",
    "ix_customer_email_pattern": "(lower(email) text_pattern_ops)",
    "ix_customer_phone_pattern": "(phone text_pattern_ops)",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        raise RuntimeError(
            "customer search needs PostgreSQL's pg_trgm extension, which this user may not "
            "create: run `CREATE EXTENSION pg_trgm;` in this database as a superuser, then "
            f"`lifecycle db upgrade` again ({exc.orig})"
        ) from exc
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON customer {definition}")
    op.execute("ANALYZE customer")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
