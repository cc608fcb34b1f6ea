"""customer: trigram indexes so that searching by name, email or phone reads an index

`customers(filter: {search: ...})` (and the bot's /find) matches a name anywhere in it and
an email or phone by its start. Without an index, a rare or missing name scans every
customer: 1.3 s on a million. pg_trgm's GIN indexes answer all three (and the external id
has its unique index), so PostgreSQL combines them (BitmapOr): 0.4 ms. PostgreSQL only;
SQLite installations are small enough to scan. Building them locks writes to `customer`
for the few seconds it takes (about 10 s per million customers).

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

COLUMNS = ("name", "email", "phone")


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
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_customer_{column}_trgm ON customer"
            f" USING gin ({column} gin_trgm_ops)"
        )
    op.execute("ANALYZE customer")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_customer_{column}_trgm")
