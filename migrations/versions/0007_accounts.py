"""accounts: one-time, expiring invitation links (onboarding and password resets)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 14:00:00

"""
import sqlalchemy as sa
from alembic import op

import launch.models.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('created_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('expires_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('used_dt', launch.models.types.UTCDateTime(), nullable=True),
        sa.Column('revoked_dt', launch.models.types.UTCDateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_user_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_event_id'))
    op.drop_table('invitations')
