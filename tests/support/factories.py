"""Test factories for events and their points, written against the models directly so that the
check-in, wall and campaign tests do not depend on the events service's rules."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, EventPoint, Unit


def make_event(
    *,
    start_dt: datetime | None = None,
    duration: timedelta = timedelta(hours=2),
    state: str = "scheduled",
    title: str = "Lễ phát động Phong trào chuyển đổi số",
    unit_codes: list[str] | None = None,
) -> Event:
    """An event hosted by the province (IOC) inviting every district and commune (or `unit_codes`).

    Needs the directory loaded. The IOC gets an EventPoint with is_host=True.
    """
    start_dt = start_dt or utcnow() + timedelta(minutes=30)
    province = db.session.scalar(select(Unit).where(Unit.level == "province"))
    event = Event(title=title, start_dt=start_dt, end_dt=start_dt + duration, state=state,
                  host_unit=province, meeting_url="https://meet.example.invalid/qn-cds")
    db.session.add(event)
    stmt = select(Unit).where(Unit.level != "province")
    if unit_codes is not None:
        stmt = stmt.where(Unit.code.in_(unit_codes))
    db.session.add(EventPoint(event=event, unit=province, is_host=True, expected_attendance=120))
    for unit in db.session.scalars(stmt.order_by(Unit.code)):
        db.session.add(EventPoint(event=event, unit=unit, expected_attendance=unit.expected_attendance or 20))
    db.session.commit()
    return event


def point_of(event: Event, code: str) -> EventPoint:
    """The event's point for unit `code`."""
    return db.session.scalar(
        select(EventPoint).join(Unit).where(EventPoint.event_id == event.id, Unit.code == code)
    )
