"""suggestion outcomes (who resolved, note); reactivation attempts

Revision ID: lifeeng
Revises: 0002
Create Date: 2026-11-25 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.columns

revision: str = 'lifeeng'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_id', ID, nullable=True))
        batch_op.add_column(sa.Column('outcome_note', sa.String(length=300), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_suggestion_resolved_by_id_staff'), 'staff', ['resolved_by_id'], ['id']
        )

    op.create_table('reactivation_attempt',
    sa.Column('id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('offer_id', ID, nullable=False),
    sa.Column('channel_id', ID, nullable=False),
    sa.Column('outbox_id', ID, nullable=True),
    sa.Column('expected_value_minor', sa.BigInteger(), nullable=False),
    sa.Column('sent_at', domain.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_ends_at', domain.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_at', domain.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channel.id'], name=op.f('fk_reactivation_attempt_channel_id_channel')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_reactivation_attempt_customer_id_customer')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_reactivation_attempt_offer_id_offer')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_reactivation_attempt_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reactivation_attempt')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_reactivation_attempt_dedupe_key'))
    )
    with op.batch_alter_table('reactivation_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_reactivation_attempt_status_window_ends_at', ['status', 'window_ends_at'], unique=False)
        batch_op.create_index('ix_reactivation_attempt_customer_id_window_ends_at', ['customer_id', 'window_ends_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reactivation_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_reactivation_attempt_customer_id_window_ends_at')
        batch_op.drop_index('ix_reactivation_attempt_status_window_ends_at')
    op.drop_table('reactivation_attempt')
    with op.batch_alter_table('suggestion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suggestion_resolved_by_id_staff'), type_='foreignkey')
        batch_op.drop_column('outcome_note')
        batch_op.drop_column('resolved_by_id')
