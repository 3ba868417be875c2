"""The host's reports from the point: the headcount, the connection test, a problem for the IOC.
A cancelled or ended event takes none (`closed`): its wall and report no longer change."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Activity, EventPoint, PointProblem, User
from launch.models.checkins import PROBLEM_KINDS
from launch.services.checkin.rules import (
    MAX_HEADCOUNT,
    CheckinRefused,
    CheckinResult,
    announce,
    local_time,
    point_state,
    require_open,
    require_scope,
)


def report_headcount(point: EventPoint, user: User, headcount: Any, *, now: datetime | None = None) -> CheckinResult:
    """Record (or correct) how many people are in the room, walk-ins included."""
    require_scope(point, user)
    require_open(point.event)
    try:
        number = int(str(headcount).strip())
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= MAX_HEADCOUNT:
        raise CheckinRefused("invalid_input", _("The headcount must be a whole number from 0 to %(n)d.",
                                                n=MAX_HEADCOUNT))
    now = now or utcnow()
    point.headcount, point.headcount_dt = number, now
    data = {"headcount": number, "by": user.display_name}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="headcount", created_dt=now,
                            data=data))
    db.session.commit()
    announce(point.event_id, "headcount", point.id, data)
    return CheckinResult("headcount_saved", _("Headcount saved: %(n)d people.", n=number), point_state(point))


def confirm_connection_test(point: EventPoint, user: User, *, now: datetime | None = None) -> CheckinResult:
    """The host confirms the connection test went well."""
    require_scope(point, user)
    require_open(point.event)
    now = now or utcnow()
    point.connection_tested_dt = now
    data = {"by": user.display_name}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="connection_test",
                            created_dt=now, data=data))
    db.session.commit()
    announce(point.event_id, "connection_test", point.id, data)
    return CheckinResult("connection_tested", _("Connection test confirmed at %(time)s.", time=local_time(now)),
                         point_state(point))


def report_problem(point: EventPoint, user: User, kind: str, text: str | None = None, *,
                   now: datetime | None = None) -> CheckinResult:
    """A problem at the point (no audio, no video, no connection, other + text) for the IOC."""
    require_scope(point, user)
    require_open(point.event)
    if text is not None and not isinstance(text, str):  # JSON numbers, lists, objects: not a description
        raise CheckinRefused("invalid_input", _("Describe the problem."))
    text = (text or "").strip()[:1000] or None
    if kind not in PROBLEM_KINDS:
        raise CheckinRefused("invalid_input", _("Choose what kind of problem it is."))
    if kind == "other" and not text:
        raise CheckinRefused("invalid_input", _("Describe the problem."))
    now = now or utcnow()
    problem = PointProblem(event_point_id=point.id, kind=kind, text=text, reported_dt=now, reported_by_id=user.id)
    db.session.add(problem)
    db.session.flush()
    data = {"problem_id": problem.id, "problem": kind, "text": text, "by": user.display_name}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="problem", created_dt=now,
                            data=data))
    db.session.commit()
    announce(point.event_id, "problem", point.id, data)
    return CheckinResult("problem_reported", _("Problem reported. The IOC sees it now."),
                         {"problem_id": problem.id, **point_state(point)})
