"""Reading check-in: one event point, an event's points, the points a host acts for."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, EventPoint, Unit, User
from launch.services.access import scoped_unit_ids
from launch.services.checkin.rules import CheckinRefused

#: A point with its event and unit, in one read (every check-in starts with it; built once).
_POINT = (select(EventPoint).options(joinedload(EventPoint.event), joinedload(EventPoint.unit))
          .where(EventPoint.id == bindparam("point_id")))


def get_point(point_id: int, *, event_id: int | None = None) -> EventPoint:
    """The event point (of `event_id` if given) or `unknown_point`."""
    point = db.session.execute(_POINT, {"point_id": point_id}).scalar_one_or_none()
    if point is None or (event_id is not None and point.event_id != event_id):
        raise CheckinRefused("unknown_point", _("This connection point is not invited to the event."))
    return point


def event_points(event: Event) -> list[EventPoint]:
    """The event's points, the host point first, then by unit code (districts before their communes)."""


    return list(db.session.scalars(
        select(EventPoint).join(Unit, EventPoint.unit_id == Unit.id).where(EventPoint.event_id == event.id)
        .options(selectinload(EventPoint.unit).selectinload(Unit.parent), selectinload(EventPoint.checked_in_by))
        .order_by(EventPoint.is_host.desc(), Unit.code)
    ))


def sheet_points(event: Event, group_id: int | None = None) -> list[EventPoint]:
    """The points a QR sheet prints (not the host's), in wall order: all, or one group's (a district,
    a province of a national launch: its IOC and communes), read for that group only."""
    stmt = (select(EventPoint).where(EventPoint.event_id == event.id, EventPoint.is_host.is_(False))
            .options(selectinload(EventPoint.unit)))
    if group_id is not None:
        stmt = stmt.where(EventPoint.group_id == group_id)
    points = list(db.session.scalars(stmt))
    return sorted(points, key=lambda p: (p.group_code or "", 0 if p.unit_id == p.group_id else 1,
                                         p.unit_code or p.unit.code))


def my_points(user: User, *, now: datetime | None = None) -> list[EventPoint]:
    """Points `user` may act for in events not over (cancelled and ended excluded), soonest first."""

    now = now or utcnow()
    stmt = (select(EventPoint).join(Event, EventPoint.event_id == Event.id)
            .where(Event.state.notin_(("cancelled", "ended", "draft")), Event.end_dt >= now - timedelta(hours=12))
            .order_by(Event.start_dt, EventPoint.id))
    scope = scoped_unit_ids(user)
    if scope is not None:
        if not scope:
            return []
        stmt = stmt.where(EventPoint.unit_id.in_(scope))
    return list(db.session.scalars(stmt.limit(300)))
