"""Reading events: one event, the ones a user may see, their invited points, the calendar, the tasks."""
from __future__ import annotations

import calendar as _calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from launch.clock import as_utc, to_local, utcnow
from launch.extensions import db
from launch.models import Event, EventPoint, ScheduledTask, Unit, User
from launch.models.events import EVENT_STATES
from launch.services.access import can_read_all, scoped_unit_ids
from launch.services.directory import map_root
from launch.services.errors import NotFound
from launch.services.events.states import TERMINAL_STATES


def get_event(event_id: int) -> Event:
    """The event or NotFound."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound("unknown_event", _("This event does not exist."))
    return event


def province_unit(edition: str | None = None) -> Unit | None:
    """The default host point (the IOC): the top of the newest map (or of `edition`), a province or,
    with the whole country loaded, the national root."""
    return map_root(edition)


def invited_points(event: Event) -> list[EventPoint]:
    """The invited points (not the host), with their units, ordered by level then code."""
    return list(db.session.scalars(
        select(EventPoint).join(Unit)
        .where(EventPoint.event_id == event.id, EventPoint.is_host.is_(False))
        .options(selectinload(EventPoint.unit).selectinload(Unit.parent))
        .order_by(Unit.level.desc(), Unit.code)
    ))


def visible_events_query(user: User, *, state: str | None = None, when: str | None = None,
                         now: datetime | None = None) -> Select:
    """Events the user may see: all for operators and viewers; hosts those inviting their points (no drafts)."""
    now = now or utcnow()
    stmt = select(Event)
    scope = None if can_read_all(user) else scoped_unit_ids(user)
    if scope is not None:
        stmt = stmt.where(Event.state != "draft", Event.id.in_(
            select(EventPoint.event_id).where(EventPoint.unit_id.in_(scope or {-1}))))
    if state in EVENT_STATES:
        stmt = stmt.where(Event.state == state)
    if when == "upcoming":
        # An event ended early (or cancelled) is over, whatever its planned end.
        stmt = stmt.where(Event.end_dt >= now, Event.state.not_in(TERMINAL_STATES)).order_by(Event.start_dt, Event.id)
    elif when == "past":
        stmt = stmt.where(or_(Event.end_dt < now, Event.state.in_(TERMINAL_STATES))).order_by(
            Event.start_dt.desc(), Event.id.desc())
    else:
        stmt = stmt.order_by(Event.start_dt.desc(), Event.id.desc())
    return stmt


def can_view(user: User, event: Event) -> bool:
    """Operators and viewers see every event; hosts the non-draft ones inviting their points."""
    if can_read_all(user):
        return True
    scope = scoped_unit_ids(user)
    if event.state == "draft" or not scope:
        return False
    return db.session.scalar(
        select(EventPoint.id).where(EventPoint.event_id == event.id, EventPoint.unit_id.in_(scope)).limit(1)
    ) is not None


def user_points(user: User, event: Event) -> list[EventPoint]:
    """The event's points a host acts for (all of them for operators)."""
    points = invited_points(event)
    if can_read_all(user):
        return points
    scope = scoped_unit_ids(user)
    return [p for p in points if p.unit_id in scope]


def upcoming_for(user: User, now: datetime | None = None, limit: int = 5) -> list[Event]:
    """The next events the user takes part in (or, for operators and viewers, all the next ones)."""
    return list(db.session.scalars(visible_events_query(user, when="upcoming", now=now).limit(limit)))


def calendar_month(user: User, year: int, month: int) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of {"day": date, "in_month": bool, "events": [...]} in local time."""
    weeks = _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    start_utc = as_utc(datetime.combine(first, time.min))
    end_utc = as_utc(datetime.combine(last + timedelta(days=1), time.min))
    stmt = visible_events_query(user).where(Event.start_dt >= start_utc, Event.start_dt < end_utc)
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in db.session.scalars(stmt):
        by_day[to_local(event.start_dt).date()].append(event)
    for events in by_day.values():
        events.sort(key=lambda e: e.start_dt)
    return [[{"day": d, "in_month": d.month == month, "events": by_day.get(d, [])} for d in week]
            for week in weeks]


def tasks_of(event: Event) -> list[ScheduledTask]:
    """The event's tasks, by due time."""
    return list(db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id)
                                   .order_by(ScheduledTask.due_dt, ScheduledTask.id)))
