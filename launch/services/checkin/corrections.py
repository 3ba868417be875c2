"""Corrections at a point: undo a wrong check-in, mark a reported problem resolved.

Who may undo: the point's host within a short window after the check-in (CHECKIN_UNDO_MINUTES,
5 by default: the time to notice a wrong badge or a wrong name picked), an operator at any time.
An undone person check-in leaves attendee_checkins for undone_checkins (the person can be checked
in again; the scan's client id stays taken, so a late retry of that scan is refused, never recorded
again); an undone site check-in empties the point's check-in columns. Every correction is one
transaction with an Activity row and an audit entry, and sends `wall_changed` after its commit,
like every other check-in write.

Refusal codes (besides the scope's not_your_point): unknown_checkin (404), not_checked_in (409),
undo_too_late (409), unknown_problem (404), already_resolved (409), undone (409: a retried scan
that was undone).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select, update

import launch.services.checkin.statements as sql
from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, EventPoint, PointProblem, UndoneCheckin, User
from launch.services import audit
from launch.services.access import can_act_for
from launch.services.checkin.rules import (
    CheckinRefused,
    CheckinResult,
    announce,
    local_time,
    point_label,
    point_state,
    require_scope,
)
from launch.services.text import row_id

DEFAULT_UNDO_MINUTES = 5


def _refused(code: str, message: Any, status: int, **details: Any) -> CheckinRefused:
    exc = CheckinRefused(code, message, **details)
    exc.status = status
    return exc


def undo_window() -> timedelta:
    """How long after a check-in its point's host may still undo it (CHECKIN_UNDO_MINUTES)."""
    return timedelta(minutes=float(current_app.config.get("CHECKIN_UNDO_MINUTES", DEFAULT_UNDO_MINUTES)))


def may_undo(user: User, point: EventPoint, done_dt: datetime | None, now: datetime | None = None) -> bool:
    """True if `user` may undo a check-in made at `done_dt` at `point` (pages show the button by it)."""
    if done_dt is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_operator:
        return True
    return can_act_for(user, point.unit_id) and (now or utcnow()) <= done_dt + undo_window()


def _require_undo_right(user: User, point: EventPoint, done_dt: datetime, now: datetime) -> None:
    require_scope(point, user)
    if not may_undo(user, point, done_dt, now):
        minutes = int(undo_window().total_seconds() // 60)
        raise _refused("undo_too_late", ngettext(
            "A check-in can be undone at the point for %(num)d minute after it. Call the IOC: an operator can "
            "still undo it.",
            "A check-in can be undone at the point for %(num)d minutes after it. Call the IOC: an operator can "
            "still undo it.", minutes), 409, point_id=point.id)


def lasted(seconds: float) -> str:
    """A duration in words for the report and the answers: "45 s", "12 min", "1 h 05 min"."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("%(n)d s", n=seconds)
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return _("%(n)d min", n=minutes)
    return _("%(h)d h %(m)02d min", h=hours, m=minutes)


# --- a person's check-in ------------------------------------------------------------------------

def undo_attendee_checkin(checkin_id: Any, user: User, *, now: datetime | None = None) -> CheckinResult:
    """Undo a person's check-in (a wrong badge, the wrong name picked): they can be checked in again."""
    now = now or utcnow()
    number = row_id(checkin_id)
    row = db.session.get(AttendeeCheckin, number) if number is not None else None
    if row is None:
        raise _refused("unknown_checkin", _("This check-in does not exist or was already undone."), 404)
    point, person = row.event_point, row.attendee
    _require_undo_right(user, point, row.recorded_dt, now)
    event_id, point_id, name = row.event_id, row.event_point_id, person.full_name
    kept = UndoneCheckin(event_id=event_id, attendee_id=row.attendee_id, event_point_id=point_id,
                         client_id=row.client_id, scanned_dt=row.scanned_dt, recorded_dt=row.recorded_dt,
                         by_user_id=row.by_user_id, method=row.method, undone_dt=now, undone_by_id=user.id)
    # A conditional DELETE: of two undos at once, one removes the row and the other is told.
    gone = db.session.execute(delete(AttendeeCheckin).where(AttendeeCheckin.id == row.id)
                              .execution_options(synchronize_session=False)).rowcount
    if not gone:
        db.session.rollback()
        raise _refused("unknown_checkin", _("This check-in does not exist or was already undone."), 404)
    db.session.expunge(row)
    db.session.add(kept)
    data = {"attendee_id": person.id, "name": name, "by": user.display_name, "checkin_id": row.id}
    db.session.add(Activity(event_id=event_id, event_point_id=point_id, kind="attendee_checkin_undone",
                            created_dt=now, data=data))
    audit.record("checkin.undone", f"check-in of {name} at {point.unit.name} undone", user=user, target=person,
                 details={"event_id": event_id, "point_id": point_id, "checkin_id": row.id,
                          "scanned_dt": iso(row.scanned_dt), "client_id": row.client_id})
    db.session.commit()
    announce(event_id, "attendee_checkin_undone", point_id, data)
    return CheckinResult("undone", _("The check-in of %(name)s was undone. They can be checked in again.", name=name),
                         {"attendee": {"id": person.id, "name": name}, "checkin_id": row.id, "point_id": point_id})


def refuse_undone_scan(client_id: str) -> None:
    """A scan that was recorded, then undone, and is now sent again (a late retry): refused, not recorded."""
    found = sql.run(sql.UNDONE_BY_SCAN, {"client_id": client_id}).scalar()  # every scan asks: Core, no object
    if found is not None:
        undone = db.session.get(UndoneCheckin, found)
        raise _refused("undone", _("This scan of %(name)s was undone at %(time)s. Scan the badge again to check "
                                   "them in.", name=undone.attendee.full_name, time=local_time(undone.undone_dt)),
                       409, attendee={"id": undone.attendee_id, "name": undone.attendee.full_name})


def checkins_by_attendee(event_id: int, attendee_ids: list[int]) -> dict[int, AttendeeCheckin]:
    """The check-ins of these people at the event (for pages that offer to undo them)."""
    if not attendee_ids:
        return {}
    rows = db.session.scalars(select(AttendeeCheckin).where(AttendeeCheckin.event_id == event_id,
                                                            AttendeeCheckin.attendee_id.in_(attendee_ids)))
    return {row.attendee_id: row for row in rows}


# --- the point's own check-in ------------------------------------------------------------------

def undo_site_checkin(point: EventPoint, user: User, *, now: datetime | None = None) -> CheckinResult:
    """Undo a point's check-in (the QR scanned by mistake, a check-in by hand for the wrong point)."""
    now = now or utcnow()
    require_scope(point, user)  # first: an outsider learns nothing about the point
    if point.checked_in_dt is None:
        raise _refused("not_checked_in", _("%(point)s is not checked in.", point=point_label(point)), 409,
                       point_id=point.id)
    _require_undo_right(user, point, point.checked_in_dt, now)
    was = {"checked_in_dt": iso(point.checked_in_dt), "method": point.checkin_method,
           "by": point.checked_in_by.display_name if point.checked_in_by else None}
    done = db.session.execute(
        update(EventPoint).where(EventPoint.id == point.id, EventPoint.checked_in_dt == point.checked_in_dt)
        .values(checked_in_dt=None, checked_in_by_id=None, checkin_method=None, checkin_reason=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:  # undone (or undone and checked in again) meanwhile
        db.session.rollback()
        raise _refused("not_checked_in", _("%(point)s changed meanwhile: reload the page.", point=point_label(point)),
                       409, point_id=point.id)
    data = {"unit": point.unit.name, "by": user.display_name, "was": was}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="site_checkin_undone",
                            created_dt=now, data=data))
    audit.record("checkin.site_undone", f"check-in of {point.unit.name} undone", user=user, target=point,
                 details={"event_id": point.event_id, **was})
    db.session.commit()
    db.session.refresh(point)
    announce(point.event_id, "site_checkin_undone", point.id, data)
    return CheckinResult("undone", _("The check-in of %(point)s was undone.", point=point_label(point)),
                         point_state(point))


# --- problems ------------------------------------------------------------------------------------

def open_problems(point: EventPoint) -> list[PointProblem]:
    """The point's problems not marked resolved yet, newest first."""
    return list(db.session.scalars(
        select(PointProblem).where(PointProblem.event_point_id == point.id, PointProblem.resolved_dt.is_(None))
        .order_by(PointProblem.reported_dt.desc(), PointProblem.id.desc())))


def resolve_problem(point: EventPoint, problem_id: Any, user: User, *, now: datetime | None = None) -> CheckinResult:
    """Mark a reported problem resolved (the point's host or an operator): the wall stops showing it."""
    now = now or utcnow()
    require_scope(point, user)
    number = row_id(problem_id)
    problem = db.session.get(PointProblem, number) if number is not None else None
    if problem is None or problem.event_point_id != point.id:
        raise _refused("unknown_problem", _("This problem was not reported at %(point)s.", point=point_label(point)),
                       404, point_id=point.id)
    if problem.resolved_dt is not None:
        raise _already_resolved(problem)
    done = db.session.execute(
        update(PointProblem).where(PointProblem.id == problem.id, PointProblem.resolved_dt.is_(None))
        .values(resolved_dt=now, resolved_by_id=user.id).execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        raise _already_resolved(db.session.get(PointProblem, problem.id))
    seconds = max(0, int((now - problem.reported_dt).total_seconds()))
    data = {"problem_id": problem.id, "problem": problem.kind, "by": user.display_name, "seconds": seconds}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="problem_resolved",
                            created_dt=now, data=data))
    audit.record("checkin.problem_resolved", f"problem {problem.kind} at {point.unit.name} resolved", user=user,
                 target=point, details={"event_id": point.event_id, "problem_id": problem.id, "seconds": seconds})
    db.session.commit()
    announce(point.event_id, "problem_resolved", point.id, data)
    return CheckinResult("problem_resolved", _("Problem marked resolved. It lasted %(time)s.", time=lasted(seconds)),
                         {"problem_id": problem.id, "seconds": seconds})


def _already_resolved(problem: PointProblem) -> CheckinRefused:
    by = problem.resolved_by.display_name if problem.resolved_by else _("the IOC")
    return _refused("already_resolved", _("This problem was already marked resolved at %(time)s by %(by)s.",
                                          time=local_time(problem.resolved_dt), by=by), 409,
                    problem_id=problem.id, resolved_dt=iso(problem.resolved_dt))
