"""maps: directory editions (2023 three-level, 2025 two-level), codes per level, event point snapshots

Existing units become the 2023 edition; a unit is now unique by (edition, level, code). Existing
event points get the snapshot of their unit and group as the directory stands (the 2023 map: a
district is its own group, a commune is its district's, the host point is group 0).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:00:00

"""
import sqlalchemy as sa
from alembic import op

import launch.models.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'editions',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=True),
        sa.Column('data_date', sa.String(length=10), nullable=True),
        sa.Column('created_dt', launch.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_editions')),
    )
    editions = sa.table(
        'editions', sa.column('code', sa.String), sa.column('title', sa.String), sa.column('source', sa.String),
        sa.column('data_date', sa.String), sa.column('created_dt', launch.models.types.UTCDateTime),
    )
    from datetime import datetime, timezone

    op.bulk_insert(editions, [{
        'code': '2023', 'title': 'Three-level map (GSO list of 2023-05-07)',
        'source': 'vietnam-provinces 0.5.0 (GSO data 2023-05-07)', 'data_date': '2023-05-07',
        'created_dt': datetime.now(timezone.utc),
    }])

    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edition', sa.String(length=16), nullable=True))
    op.execute("UPDATE units SET edition = '2023'")
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.alter_column('edition', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_units_code'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_units_edition'), ['edition', 'level', 'code'])
        batch_op.create_foreign_key(batch_op.f('fk_units_edition_editions'), 'editions', ['edition'], ['code'])
        batch_op.create_index(batch_op.f('ix_units_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_units_edition'), ['edition'], unique=False)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edition', sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_events_edition_editions'), 'editions', ['edition'], ['code'])
    op.execute("UPDATE events SET edition = '2023'")

    with op.batch_alter_table('event_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('unit_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('unit_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('unit_division_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('group_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('group_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('group_level', sa.String(length=16), nullable=True))
    # The snapshot of what existing events were held with (the 2023 map).
    unit = "(SELECT {col} FROM units u WHERE u.id = event_points.unit_id)"
    group = ("(SELECT g.{col} FROM units u JOIN units g ON g.id = CASE WHEN u.level = 'commune' "
             "AND u.parent_id IS NOT NULL THEN u.parent_id ELSE u.id END WHERE u.id = event_points.unit_id)")
    op.execute(
        "UPDATE event_points SET "
        f"unit_code = {unit.format(col='code')}, unit_name = {unit.format(col='name')}, "
        f"unit_level = {unit.format(col='level')}, unit_division_type = {unit.format(col='division_type')}"
    )
    op.execute(
        "UPDATE event_points SET group_id = 0, group_code = '', "
        f"group_name = {unit.format(col='name')}, group_level = {unit.format(col='level')} "
        "WHERE is_host = true"
    )
    op.execute(
        "UPDATE event_points SET "
        f"group_id = {group.format(col='id')}, group_code = {group.format(col='code')}, "
        f"group_name = {group.format(col='name')}, group_level = {group.format(col='level')} "
        "WHERE is_host = false"
    )


def downgrade():
    with op.batch_alter_table('event_points', schema=None) as batch_op:
        for column in ('group_level', 'group_name', 'group_code', 'group_id', 'unit_division_type', 'unit_level',
                       'unit_name', 'unit_code'):
            batch_op.drop_column(column)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_edition_editions'), type_='foreignkey')
        batch_op.drop_column('edition')
    # Only the 2023 edition fits the old schema (one unit per code).
    op.execute("UPDATE units SET parent_id = NULL WHERE edition <> '2023'")
    op.execute("DELETE FROM units WHERE edition <> '2023'")
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_edition'))
        batch_op.drop_index(batch_op.f('ix_units_code'))
        batch_op.drop_constraint(batch_op.f('fk_units_edition_editions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_units_edition'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_units_code'), ['code'])
        batch_op.drop_column('edition')
    op.drop_table('editions')
