"""sessions: a per-user session generation that signing out replaces; walk-ins; meeting participants

users.session_token (sign-out, password change and disable replace it); events.allow_walk_ins (an
operator's choice: hosts may check in people of other units); event_points.meeting_email and the
meeting_participants table (Zoom participants no point could be matched to, for the operator to assign).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

import launch.models.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String(64)))
    conn = op.get_bind()
    # Every account gets its own random generation; cookies issued before (which carry no generation)
    # stop working, so everyone signs in once more.
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(24)))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_walk_ins', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('event_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_email', sa.String(length=200), nullable=True))
    op.create_table(
        'meeting_participants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('participant_key', sa.String(length=200), nullable=False),
        sa.Column('user_name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('in_call', sa.Boolean(), nullable=False),
        sa.Column('joined_dt', launch.models.types.UTCDateTime(), nullable=True),
        sa.Column('left_dt', launch.models.types.UTCDateTime(), nullable=True),
        sa.Column('updated_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', 'participant_key'),
    )
    with op.batch_alter_table('meeting_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_participants_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('meeting_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_participants_event_id'))
    op.drop_table('meeting_participants')
    with op.batch_alter_table('event_points', schema=None) as batch_op:
        batch_op.drop_column('meeting_email')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('allow_walk_ins')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
