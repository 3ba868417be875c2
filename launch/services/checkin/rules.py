"""What every check-in shares: the refusal codes and their HTTP status, the answer, the window, the scope.

Refusal codes: invalid_token, expired, revoked, wrong_event, unknown_point, unknown_attendee,
not_your_point, not_your_attendee, not_yet_open, closed, already_checked_in, checked_in_elsewhere, client_id_reused,
invalid_input, reason_required, operators_only. Token refusals are audited (`checkin.refused`) in
their own commit, and nothing else is written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select

from launch.clock import iso
from launch.extensions import db
from launch.models import AttendeeCheckin, Event, EventPoint, User
from launch.services import audit
from launch.services.access import can_act_for
from launch.services.errors import DomainError
from launch.signals import wall_change

#: HTTP status of each refusal.
STATUS = {
    "invalid_token": 400,
    "invalid_input": 400,
    "reason_required": 400,
    "expired": 410,
    "revoked": 410,
    "unknown_point": 404,
    "unknown_attendee": 404,
    "not_your_point": 403,
    "not_your_attendee": 403,
    "operators_only": 403,
    "wrong_event": 409,
    "not_yet_open": 409,
    "closed": 409,
    "already_checked_in": 409,
    "checked_in_elsewhere": 409,
    "client_id_reused": 409,
    "unknown_event": 404,
}
#: Refusals that are harmless answers, not security events: not audited. A person of another unit
#: turned away is an everyday launch-day answer (people walk into the nearest point), and nothing is written.
HARMLESS = {"already_checked_in", "checked_in_elsewhere", "invalid_input", "reason_required", "not_your_attendee"}
#: A phone clock this far ahead of the server is trusted no further than "now".
CLOCK_SKEW = timedelta(minutes=2)
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_HEADCOUNT = 100_000


class CheckinRefused(DomainError):
    """A check-in or report refused, with a machine code (see the module docstring)."""

    def __init__(self, code: str, message: Any, **details: Any) -> None:
        super().__init__(code, message, status=STATUS.get(code, 400), **details)


@dataclass
class CheckinResult:
    """An accepted check-in or report: `code` for machines, `message` for people, `data` for both."""

    code: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, "code": self.code, "message": self.message, **self.data}


def local_time(value: datetime | None) -> str:
    """A time in a refusal or an answer, in the user's time zone."""
    return format_datetime(value, "HH:mm dd/MM/yyyy") if value else ""


def point_label(point: EventPoint) -> str:
    """"Xã Bình Thạnh (Huyện Bình Sơn)": the point's unit and its district."""
    unit = point.unit
    if unit.parent is not None and unit.level == "commune":
        return f"{unit.name} ({unit.parent.name})"
    return unit.name


def check_window(event: Event, at: datetime) -> None:
    """Refuse `at` outside the event's check-in window (test-window start to the end).

    The window is computed from the event now, so moving the event moves it. A cancelled event,
    or an event ended (early) before `at`, is `closed`.
    """
    if event.state == "cancelled":
        raise CheckinRefused("closed", _("Check-in is closed: this event was cancelled."))
    if event.state == "ended" and (event.state_changed_dt is None or at >= event.state_changed_dt):
        raise CheckinRefused("closed", _("Check-in is closed: this event has ended."))
    opens = event.start_dt - timedelta(minutes=event.test_window_minutes or 0)
    if event.state == "draft" or at < opens:
        raise CheckinRefused("not_yet_open", _("Check-in is not open yet. It opens at %(time)s.",
                                               time=local_time(opens)), opens_dt=iso(opens))
    if at > event.end_dt:
        raise CheckinRefused("expired", _("This code has expired: the event ended at %(time)s.",
                                          time=local_time(event.end_dt)), closed_dt=iso(event.end_dt))


def audit_refusal(exc: DomainError, user: User | None, **details: Any) -> None:
    """Record a refused check-in in its own commit (nothing else is written)."""
    if exc.code in HARMLESS:
        return
    db.session.rollback()
    audit.record_now(
        "checkin.refused",
        f"check-in refused: {exc.code}",
        user=user,
        actor=user.username if user is not None else "anonymous",
        details={"code": exc.code, **{k: v for k, v in details.items() if v is not None}},
    )


def require_scope(point: EventPoint, user: User) -> None:
    """Refuse (`not_your_point`) a user who may not act for the point."""
    if not can_act_for(user, point.unit_id):
        raise CheckinRefused("not_your_point", _("You are not a host of %(point)s.", point=point_label(point)),
                             point_id=point.id)


def require_open(event: Event) -> None:
    """Refuse (`closed`) a host's report to a cancelled or ended event: the wall and the report of an
    event over must not change under the operator's feet."""
    if event.state == "cancelled":
        raise CheckinRefused("closed", _("This event was cancelled: it takes no more reports."))
    if event.state == "ended":
        raise CheckinRefused("closed", _("This event has ended: it takes no more reports."))


def _unit_name(attendee: Any) -> str:
    """The name of the person's unit: an ORM attendee or the check-in's Core-read `Person`."""
    name = attendee.unit_name if hasattr(attendee, "unit_name") else (
        attendee.unit.name if attendee.unit is not None else None)
    return name or _("another unit")


def attendee_walk_in(point: EventPoint, user: User, attendee: Any) -> bool:
    """False for a person of the user's own units; True for a walk-in from another unit, when the
    operator allowed walk-ins at this event; otherwise refused (`not_your_attendee`).

    A host checks in the people of their units only (issue 16): a host elsewhere checking someone in
    would lock that person out of their own point (`checked_in_elsewhere`).
    """
    if attendee.unit_id is not None and can_act_for(user, attendee.unit_id):
        return False
    if point.event.allow_walk_ins:
        return True
    unit = _unit_name(attendee)
    raise CheckinRefused("not_your_attendee",
                         _("%(name)s is on the roster of %(unit)s, not of your units: they check in at their own "
                           "point. (The IOC can allow walk-ins from other units.)", name=attendee.full_name,
                           unit=unit), attendee_id=attendee.id)


def was_walk_in(row: AttendeeCheckin) -> bool:
    """Whether a recorded check-in was a walk-in (for the replayed answer): the person is outside the
    scope of the user who checked them in."""
    attendee = row.attendee
    return row.by_user is not None and not (attendee.unit_id is not None and can_act_for(row.by_user, attendee.unit_id))


def walk_in_answer(result: CheckinResult, attendee: Any) -> CheckinResult:
    """The answer to a walk-in's check-in says so, for the scanner and the phone."""
    unit = _unit_name(attendee)
    result.data["walk_in"] = True
    result.message = _("%(name)s is checked in as a walk-in from %(unit)s.", name=attendee.full_name, unit=unit)
    return result


def announce(event_id: int, kind: str, point_id: int | None, data: dict[str, Any]) -> None:
    """Tell the wall, after the commit (the receivers log their failures: a check-in is never undone)."""
    wall_change(event_id, kind, point_id, data)


def point_state(point: EventPoint) -> dict[str, Any]:
    """A point's check-in facts, for pages, the API and answers."""
    checked = db.session.scalar(
        select(func.count()).select_from(AttendeeCheckin).where(AttendeeCheckin.event_point_id == point.id)
    )
    return {
        "point": {"id": point.id, "event_id": point.event_id, "unit_code": point.unit.code,
                  "name": point.unit.name, "label": point_label(point)},
        "checked_in": point.checked_in_dt is not None,
        "checked_in_dt": iso(point.checked_in_dt),
        "checked_in_by": point.checked_in_by.display_name if point.checked_in_by else None,
        "checkin_method": point.checkin_method,
        "headcount": point.headcount,
        "headcount_dt": iso(point.headcount_dt),
        "connection_tested_dt": iso(point.connection_tested_dt),
        "attendees_checked_in": checked or 0,
        "expected_attendance": point.expected_attendance,
    }
