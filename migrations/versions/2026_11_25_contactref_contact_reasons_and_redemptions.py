"""contact log reason codes and retry times; referral redemptions

Revision ID: contactref
Revises: 0002
Create Date: 2026-11-25 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import domain.columns

revision: str = 'contactref'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column('retry_at', domain.columns.UTCDateTime(timezone=True), nullable=True)
        )

    op.create_table('referral_redemption',
    sa.Column('id', ID, nullable=False),
    sa.Column('referral_id', ID, nullable=False),
    sa.Column('referee_id', ID, nullable=False),
    sa.Column('redeemed_at', domain.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('converted_at', domain.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reward_minor', sa.BigInteger(), nullable=False),
    sa.Column('reward_granted_at', domain.columns.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_referral_redemption_order_id_orders')),
    sa.ForeignKeyConstraint(['referee_id'], ['customer.id'], name=op.f('fk_referral_redemption_referee_id_customer')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_referral_redemption_referral_id_referral')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_redemption')),
    sa.UniqueConstraint('referee_id', name=op.f('uq_referral_redemption_referee_id'))
    )
    with op.batch_alter_table('referral_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_redemption_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referral_redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_redemption_referral_id'))
    op.drop_table('referral_redemption')
    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.drop_column('retry_at')
        batch_op.drop_column('reason_code')
