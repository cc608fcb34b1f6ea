"""customer: leave room on each page for in-place updates; joins the feature branches

Every event batch and order rewrites a customer's facts columns (last_engaged_at,
last_order_at, counts). None of them is indexed, so PostgreSQL can update the row on its
own page without touching the table's nine indexes (a HOT update), but only if the page has
room: freshly loaded pages are full. Applies to pages written from now on; run
`VACUUM FULL customer` to repack an existing table.

Revision ID: 0003
Revises: apiaudit, contactref, lifeeng, outboxdlv
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = ("apiaudit", "contactref", "lifeeng", "outboxdlv")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 85


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE customer SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customer RESET (fillfactor)")
