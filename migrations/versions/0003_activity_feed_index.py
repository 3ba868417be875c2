"""activities: index for the wall feed (an event's newest rows)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:55:00

"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_event_newest', ['event_id', 'created_dt', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_event_newest')
