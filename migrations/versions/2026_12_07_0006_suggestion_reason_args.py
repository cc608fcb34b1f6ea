"""suggestion: the reason as what the trigger found, for readers of other languages

`reason_key` names the trigger's sentence and `reason_args` holds what fills it (days,
counts, categories, amounts); the API puts them in the reader's words. Rows written before
have neither and keep showing their English `reason`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.columns

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("suggestion") as batch:
        batch.add_column(sa.Column("reason_key", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("reason_args", domain.columns.JsonType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suggestion") as batch:
        batch.drop_column("reason_args")
        batch.drop_column("reason_key")
