"""The check-in's hot statements, built once: every scan of a launch runs them.

Why: SQLAlchemy builds, hashes and looks up a statement's compiled form each time an expression is
written inline, which costs more than running it on SQLite; a statement built once with bind
parameters skips all but the lookup. Run through the session's connection (its transaction), with
plain rows back: nothing here creates ORM objects.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select

from launch.extensions import db
from launch.models import Activity, Attendee, AttendeeCheckin, UndoneCheckin, Unit

#: The check-ins under a scan id (a retry) or of the named person at the event: ids only.
EARLIER = select(AttendeeCheckin.id).where(or_(
    AttendeeCheckin.client_id == bindparam("client_id"),
    and_(AttendeeCheckin.event_id == bindparam("event_id"), AttendeeCheckin.attendee_id == bindparam("attendee_id"))))
EARLIER_BY_SCAN = select(AttendeeCheckin.id).where(AttendeeCheckin.client_id == bindparam("client_id"))
CHECKIN_OF = select(AttendeeCheckin.id).where(AttendeeCheckin.event_id == bindparam("event_id"),
                                              AttendeeCheckin.attendee_id == bindparam("attendee_id"))
_PERSON = (select(Attendee.id, Attendee.event_id, Attendee.full_name, Attendee.position, Unit.name,
                   Attendee.unit_id)
           .outerjoin(Unit, Attendee.unit_id == Unit.id))
PERSON_BY_ID = _PERSON.where(Attendee.id == bindparam("attendee_id"))
PERSON_BY_BADGE = _PERSON.where(Attendee.badge_code == bindparam("badge_code"),
                                Attendee.event_id == bindparam("event_id"))
#: A scan id that was recorded, then undone (a late retry of it is refused): its id, if any.
UNDONE_BY_SCAN = select(UndoneCheckin.id).where(UndoneCheckin.client_id == bindparam("client_id"))
INSERT_CHECKIN = insert(AttendeeCheckin.__table__).returning(AttendeeCheckin.__table__.c.id)
INSERT_ACTIVITY = insert(Activity.__table__)


def run(statement: Any, params: dict[str, Any]) -> Any:
    """Execute a prebuilt statement in the request's transaction (a Core result)."""
    return db.session.connection().execute(statement, params)
