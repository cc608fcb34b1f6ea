"""score: an index of each run's customers by predicted CLV

`customers(orderBy: {field: PREDICTED_CLV, direction: DESC})` (the most valuable customers
first) walks it instead of sorting every customer: on a million customers a page costs
milliseconds instead of half a second. Building it reads the score table once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_score_run_id_predicted_clv_minor",
        "score",
        ["run_id", "predicted_clv_minor", "customer_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_score_run_id_predicted_clv_minor", table_name="score")
