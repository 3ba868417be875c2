"""revoked badges: a replaced badge is refused by name

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:35:00

"""
import sqlalchemy as sa
from alembic import op

import launch.models.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'revoked_badges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('attendee_id', sa.Integer(), nullable=False),
        sa.Column('badge_code', sa.String(length=32), nullable=False),
        sa.Column('revoked_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['attendee_id'], ['attendees.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('badge_code'),
    )
    with op.batch_alter_table('revoked_badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_badges_attendee_id'), ['attendee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revoked_badges_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('revoked_badges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_badges_event_id'))
        batch_op.drop_index(batch_op.f('ix_revoked_badges_attendee_id'))
    op.drop_table('revoked_badges')
