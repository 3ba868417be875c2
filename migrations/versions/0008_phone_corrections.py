"""phone phase B: undone check-ins, resolved problems, page closed

undone_checkins (a person's check-in that was undone, kept with who undid it; its client id stays
taken), point_problems.resolved_by_id (who marked a problem resolved), event_points.page_closed_dt
(the host page said it was closing: shown quietly, not as "signal lost").

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:00:00

"""
import sqlalchemy as sa
from alembic import op

import launch.models.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'undone_checkins',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('attendee_id', sa.Integer(), nullable=False),
        sa.Column('event_point_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('scanned_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('recorded_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('undone_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['attendee_id'], ['attendees.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_point_id'], ['event_points.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id'),
    )
    with op.batch_alter_table('undone_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_undone_checkins_attendee_id'), ['attendee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_undone_checkins_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('point_problems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_point_problems_resolved_by_id_users'), 'users', ['resolved_by_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('event_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_closed_dt', launch.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('event_points', schema=None) as batch_op:
        batch_op.drop_column('page_closed_dt')
    with op.batch_alter_table('point_problems', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_point_problems_resolved_by_id_users'), type_='foreignkey')
        batch_op.drop_column('resolved_by_id')
    with op.batch_alter_table('undone_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_undone_checkins_event_id'))
        batch_op.drop_index(batch_op.f('ix_undone_checkins_attendee_id'))
    op.drop_table('undone_checkins')
