"""audit log of API mutations

Revision ID: apiaudit
Revises: 0002
Create Date: 2026-11-25 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import domain.columns

revision: str = 'apiaudit'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', ID, nullable=False),
    sa.Column('at', domain.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_id', ID, nullable=True),
    sa.Column('staff_id', ID, nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('target_type', sa.String(length=40), nullable=True),
    sa.Column('target_id', ID, nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('result', JSON, nullable=False),
    sa.Column('request_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_audit_log_staff_id_staff')),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_audit_log_token_id_api_token')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('token_id', 'action', 'idempotency_key', name=op.f('uq_audit_log_token_id_action_idempotency_key'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_audit_log_target_type_target_id', ['target_type', 'target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target_type_target_id')
        batch_op.drop_index('ix_audit_log_at')
    op.drop_table('audit_log')
