"""seed default channels

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:39:45.299119
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHANNELS = [
    # Frozen here on purpose: later changes to the defaults need their own migration.
    ("web", "Website", False),
    ("app", "Mobile app (push)", True),
    ("email", "Email", True),
    ("sms", "SMS", True),
    ("messaging", "Messaging app", True),
    ("social", "Social media", False),
    ("short_video", "Short video", False),
    ("live_stream", "Live stream", False),
    ("community", "Community", False),
    ("offline_store", "Offline store", False),
    ("referral", "Referral", False),
]
channel = sa.table(
    "channel",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("contactable", sa.Boolean),
)


def upgrade() -> None:
    op.bulk_insert(
        channel, [{"code": c, "name": n, "contactable": k} for c, n, k in CHANNELS]
    )


def downgrade() -> None:
    op.execute(channel.delete().where(channel.c.code.in_([c for c, _, _ in CHANNELS])))
