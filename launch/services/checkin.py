"""Check-in: the ONE place that writes site and attendee check-ins and the host's reports.

Modelled on pretix's `perform_checkin`: every write is one transaction, idempotent (a scan carries a
client id, unique in the database, and a retry gets the first answer), safe under concurrency (the
site check-in is a conditional UPDATE ... WHERE checked_in_dt IS NULL; a person's check-in relies on
the unique (event, attendee) key), writes an Activity row, and is announced to the wall AFTER the
commit. Refusals raise `CheckinRefused` with a machine code; token refusals are audited
(`checkin.refused`) in their own commit, and nothing else is written.

Refusal codes: invalid_token, expired, revoked, wrong_event, unknown_point, unknown_attendee,
not_your_point, not_yet_open, closed, already_checked_in, checked_in_elsewhere, client_id_reused,
invalid_input, reason_required, operators_only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from launch.clock import as_utc, utcnow
from launch.extensions import db
from launch.models import Activity, Attendee, AttendeeCheckin, Event, EventPoint, PointProblem, User
from launch.models.checkins import PROBLEM_KINDS
from launch.services import audit
from launch.services.access import can_act_for
from launch.services.errors import DomainError
from launch.services.roster import revoked_badge
from launch.services.text import MAX_ID, row_id
from launch.services.tokens import TokenError, read_badge_token, read_site_token
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
    "operators_only": 403,
    "wrong_event": 409,
    "not_yet_open": 409,
    "closed": 409,
    "already_checked_in": 409,
    "checked_in_elsewhere": 409,
    "client_id_reused": 409,
    "unknown_event": 404,
}
#: Refusals that are harmless answers, not security events: not audited.
HARMLESS = {"already_checked_in", "checked_in_elsewhere", "invalid_input", "reason_required"}
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


# --- shared helpers ----------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _local(value: datetime | None) -> str:
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
        raise CheckinRefused("not_yet_open", _("Check-in is not open yet. It opens at %(time)s.", time=_local(opens)),
                             opens_dt=_iso(opens))
    if at > event.end_dt:
        raise CheckinRefused("expired", _("This code has expired: the event ended at %(time)s.",
                                          time=_local(event.end_dt)), closed_dt=_iso(event.end_dt))


def _audit_refusal(exc: DomainError, user: User | None, **details: Any) -> None:
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


def _require_scope(point: EventPoint, user: User) -> None:
    if not can_act_for(user, point.unit_id):
        raise CheckinRefused("not_your_point", _("You are not a host of %(point)s.", point=point_label(point)),
                             point_id=point.id)


def _announce(event_id: int, kind: str, point_id: int | None, data: dict[str, Any]) -> None:
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
        "checked_in_dt": _iso(point.checked_in_dt),
        "checked_in_by": point.checked_in_by.display_name if point.checked_in_by else None,
        "checkin_method": point.checkin_method,
        "headcount": point.headcount,
        "headcount_dt": _iso(point.headcount_dt),
        "connection_tested_dt": _iso(point.connection_tested_dt),
        "attendees_checked_in": checked or 0,
        "expected_attendance": point.expected_attendance,
    }


# --- site check-in -----------------------------------------------------------------------------

def resolve_site_token(token: str, user: User, *, expected_event_id: int | None = None) -> EventPoint:
    """The point a QR token names, if it is valid, current and `user` may act for it (else refused)."""
    try:
        claim = read_site_token(token)
        if expected_event_id is not None and claim.event_id != expected_event_id:
            raise CheckinRefused("wrong_event", _("This QR code belongs to another event."),
                                 event_id=claim.event_id)
        point = db.session.get(EventPoint, claim.event_point_id)
        if point is None or point.event_id != claim.event_id:
            raise CheckinRefused("unknown_point", _("This connection point is no longer invited to the event."))
        if claim.version != point.token_version:
            raise CheckinRefused("revoked", _("This QR code was withdrawn. Ask the IOC for the new one."))
        _require_scope(point, user)
    except (TokenError, CheckinRefused) as exc:
        _audit_refusal(exc, user, token=(token or "")[:120])
        raise
    return point


def check_in_site(token: str, user: User, *, method: str = "qr", expected_event_id: int | None = None,
                  now: datetime | None = None) -> CheckinResult:
    """Check a point in with its QR token: once per point per event; a repeat says when and by whom."""
    now = now or utcnow()
    point = resolve_site_token(token, user, expected_event_id=expected_event_id)
    try:
        check_window(point.event, now)
    except CheckinRefused as exc:
        _audit_refusal(exc, user, point_id=point.id)
        raise
    return _record_site_checkin(point, user, method=method, reason=None, now=now)


def manual_site_checkin(point: EventPoint, user: User, reason: str, *, now: datetime | None = None) -> CheckinResult:
    """An operator checks a point in by hand (confirmed by phone), giving a reason; audited."""
    if not user.is_operator:
        raise CheckinRefused("operators_only", _("Only IOC operators can check a point in by hand."))
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise CheckinRefused("reason_required", _("Give the reason for the manual check-in."))
    return _record_site_checkin(point, user, method="manual", reason=reason, now=now or utcnow())


def _already_site(point: EventPoint) -> CheckinRefused:
    by = point.checked_in_by.display_name if point.checked_in_by else _("the IOC")
    return CheckinRefused(
        "already_checked_in",
        _("%(point)s was already checked in at %(time)s by %(by)s. Nothing changed.",
          point=point_label(point), time=_local(point.checked_in_dt), by=by),
        checked_in_dt=_iso(point.checked_in_dt), checked_in_by=by, point_id=point.id,
    )


def _record_site_checkin(point: EventPoint, user: User, *, method: str, reason: str | None,
                         now: datetime) -> CheckinResult:
    point_id, event_id = point.id, point.event_id
    done = db.session.execute(
        update(EventPoint)
        .where(EventPoint.id == point_id, EventPoint.checked_in_dt.is_(None))
        .values(checked_in_dt=now, checked_in_by_id=user.id, checkin_method=method, checkin_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        point = db.session.get(EventPoint, point_id)
        raise _already_site(point)
    data = {"unit": point.unit.name, "by": user.display_name, "method": method}
    db.session.add(Activity(event_id=event_id, event_point_id=point_id, kind="site_checkin", created_dt=now, data=data))
    audit.record(
        "checkin.manual" if method == "manual" else "checkin.site",
        f"{point.unit.name} checked in ({method})" + (f": {reason}" if reason else ""),
        user=user, target=point, details={"event_id": event_id, "method": method, "reason": reason},
    )
    db.session.commit()
    db.session.refresh(point)
    _announce(event_id, "site_checkin", point_id, data)
    return CheckinResult(
        "checked_in",
        _("%(point)s is checked in at %(time)s.", point=point_label(point), time=_local(now)),
        point_state(point),
    )


def revoke_point_qr(point: EventPoint, user: User) -> EventPoint:
    """Withdraw a point's QR (leaked): bump its token version; the others are untouched. Audited."""
    if not user.is_operator:
        raise CheckinRefused("operators_only", _("Only IOC operators can withdraw a QR code."))
    db.session.execute(
        update(EventPoint).where(EventPoint.id == point.id)
        .values(token_version=EventPoint.token_version + 1, qr_issued_dt=None)
        .execution_options(synchronize_session=False)
    )
    audit.record("checkin.qr_revoked", f"QR of {point.unit.name} withdrawn and re-issued", user=user, target=point,
                 details={"event_id": point.event_id, "old_version": point.token_version})
    db.session.commit()
    db.session.refresh(point)
    return point


def mark_qr_issued(points: list[EventPoint], *, now: datetime | None = None) -> int:
    """Note that these points' QR codes were downloaded or printed (the readiness check reads it)."""
    ids = [p.id for p in points if p.qr_issued_dt is None]
    if not ids:
        return 0
    count = db.session.execute(
        update(EventPoint).where(EventPoint.id.in_(ids), EventPoint.qr_issued_dt.is_(None))
        .values(qr_issued_dt=now or utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


# --- the host's reports ------------------------------------------------------------------------

def report_headcount(point: EventPoint, user: User, headcount: Any, *, now: datetime | None = None) -> CheckinResult:
    """Record (or correct) how many people are in the room, walk-ins included."""
    _require_scope(point, user)
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
    _announce(point.event_id, "headcount", point.id, data)
    return CheckinResult("headcount_saved", _("Headcount saved: %(n)d people.", n=number), point_state(point))


def confirm_connection_test(point: EventPoint, user: User, *, now: datetime | None = None) -> CheckinResult:
    """The host confirms the connection test went well."""
    _require_scope(point, user)
    now = now or utcnow()
    point.connection_tested_dt = now
    data = {"by": user.display_name}
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="connection_test",
                            created_dt=now, data=data))
    db.session.commit()
    _announce(point.event_id, "connection_test", point.id, data)
    return CheckinResult("connection_tested", _("Connection test confirmed at %(time)s.", time=_local(now)),
                         point_state(point))


def report_problem(point: EventPoint, user: User, kind: str, text: str | None = None, *,
                   now: datetime | None = None) -> CheckinResult:
    """A problem at the point (no audio, no video, no connection, other + text) for the IOC."""
    _require_scope(point, user)
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
    _announce(point.event_id, "problem", point.id, data)
    return CheckinResult("problem_reported", _("Problem reported. The IOC sees it now."),
                         {"problem_id": problem.id, **point_state(point)})


# --- attendee check-in -------------------------------------------------------------------------

def parse_scanned_dt(value: Any, *, now: datetime | None = None) -> datetime:
    """When the phone scanned (ISO 8601); missing means now; a clock ahead of ours is taken as now."""
    now = now or utcnow()
    if value in (None, ""):
        return now
    if isinstance(value, datetime):
        scanned = as_utc(value)
    else:
        try:
            text = str(value).strip()
            scanned = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise CheckinRefused("invalid_input", _("The scan time is not a valid date and time.")) from None
        scanned = as_utc(scanned)
    return now if scanned > now + CLOCK_SKEW else min(scanned, now)


def _attendee_dict(attendee: Attendee) -> dict[str, Any]:
    return {"id": attendee.id, "name": attendee.full_name, "position": attendee.position,
            "unit": attendee.unit.name if attendee.unit else None}


def _accepted(row: AttendeeCheckin, *, replay: bool) -> CheckinResult:
    attendee = row.attendee
    return CheckinResult(
        "checked_in",
        _("%(name)s is checked in.", name=attendee.full_name),
        {"attendee": _attendee_dict(attendee), "client_id": row.client_id, "checkin_id": row.id,
         "point_id": row.event_point_id, "scanned_dt": _iso(row.scanned_dt), "recorded_dt": _iso(row.recorded_dt),
         "method": row.method, "replay": replay},
    )


def _already_attendee(row: AttendeeCheckin, point_id: int) -> CheckinRefused:
    attendee = row.attendee
    details = {"attendee": _attendee_dict(attendee), "checked_in_dt": _iso(row.scanned_dt),
               "point_id": row.event_point_id, "point": point_label(row.event_point),
               "checked_in_by": row.by_user.display_name if row.by_user else None}
    if row.event_point_id == point_id:
        return CheckinRefused(
            "already_checked_in",
            _("%(name)s was already checked in here at %(time)s. Nothing changed.",
              name=attendee.full_name, time=_local(row.scanned_dt)), **details)
    return CheckinRefused(
        "checked_in_elsewhere",
        _("%(name)s was already checked in at %(point)s at %(time)s.",
          name=attendee.full_name, point=point_label(row.event_point), time=_local(row.scanned_dt)), **details)


def _resolve_attendee(point: EventPoint, badge: str | None, attendee_id: Any) -> Attendee:
    if badge:
        claim = read_badge_token(badge)
        if claim.event_id != point.event_id:
            raise CheckinRefused("wrong_event", _("This badge belongs to another event."), event_id=claim.event_id)
        attendee = db.session.scalar(
            select(Attendee).where(Attendee.badge_code == claim.badge_code, Attendee.event_id == claim.event_id)
        )
        if attendee is None:
            gone = revoked_badge(claim.event_id, claim.badge_code)
            if gone is not None:
                raise CheckinRefused(
                    "revoked", _("This badge of %(name)s was replaced on %(time)s: scan the new badge.",
                                 name=gone.attendee.full_name, time=_local(gone.revoked_dt)),
                    attendee_id=gone.attendee_id)
    else:
        try:
            number = int(attendee_id)
            if not 0 < number <= MAX_ID:  # an id the database can hold (a huge one overflowed: 500)
                raise ValueError(number)
        except (TypeError, ValueError, OverflowError):
            raise CheckinRefused("invalid_input", _("Scan a badge or choose a person.")) from None
        attendee = db.session.get(Attendee, number, options=[joinedload(Attendee.unit)])
        if attendee is not None and attendee.event_id != point.event_id:
            raise CheckinRefused("wrong_event", _("This person is on the roster of another event."),
                                 event_id=attendee.event_id)
    if attendee is None:
        raise CheckinRefused("unknown_attendee", _("This person is not on the event's roster (any more)."))
    return attendee


def check_in_attendee(point: EventPoint, user: User, *, client_id: str, badge: str | None = None,
                      attendee_id: Any = None, scanned_dt: Any = None, method: str = "scan",
                      now: datetime | None = None) -> CheckinResult:
    """Count a person once per event, at the point that scanned first.

    `client_id` identifies the scan: a retry returns the first answer. `scanned_dt` is the phone's
    real scan time (queued offline scans), accepted within the event's window.
    """
    now = now or utcnow()
    point_id, event_id = point.id, point.event_id
    try:
        _require_scope(point, user)
        if not CLIENT_ID_RE.match(client_id or ""):
            raise CheckinRefused("invalid_input", _("The scan has no valid client id."))
        first, known, known_for = _earlier_checkins(client_id, event_id, None if badge else attendee_id)
        if first is not None:
            result = _replay(first, point_id, badge, attendee_id)
            # The first attempt's announcement may have died with its process: deltas are idempotent.
            _announce(event_id, "attendee_checkin", point_id, {"replay": True})
            return result
        attendee = _resolve_attendee(point, badge, attendee_id)
        scanned = parse_scanned_dt(scanned_dt, now=now)
        check_window(point.event, scanned)
    except (TokenError, CheckinRefused) as exc:
        _audit_refusal(exc, user, point_id=point_id, client_id=(client_id or "")[:64],
                       badge=(badge or "")[:120] or None)
        raise
    if known_for == attendee.id:  # looked up with the replay check: the row, or None when there is none
        existing = known
    else:
        existing = db.session.scalar(select(AttendeeCheckin).where(AttendeeCheckin.event_id == event_id,
                                                                   AttendeeCheckin.attendee_id == attendee.id))
    if existing is not None:
        if existing.client_id == client_id:  # the same scan, retried while the first was being recorded
            return _replay(existing, point_id, badge, attendee_id)
        raise _already_attendee(existing, point_id)
    attendee_id = attendee.id
    row = AttendeeCheckin(event_id=event_id, attendee_id=attendee_id, event_point_id=point_id, client_id=client_id,
                          scanned_dt=scanned, recorded_dt=now, by_user_id=user.id, method=method)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # Lost a race: the same scan retried, or the same person scanned elsewhere at the same moment.
        db.session.rollback()
        first = db.session.scalar(select(AttendeeCheckin).where(AttendeeCheckin.client_id == client_id))
        if first is not None:
            return _replay(first, point_id, badge, attendee_id)
        existing = db.session.scalar(
            select(AttendeeCheckin).where(AttendeeCheckin.event_id == event_id,
                                          AttendeeCheckin.attendee_id == attendee_id)
        )
        if existing is None:
            raise
        raise _already_attendee(existing, point_id) from None
    data = {"attendee_id": attendee_id, "name": attendee.full_name, "method": method, "checkin_id": row.id}
    db.session.add(Activity(event_id=event_id, event_point_id=point_id, kind="attendee_checkin", created_dt=now,
                            data=data))
    result = _accepted(row, replay=False)  # built before the commit expires what it reads: no reloads
    db.session.commit()
    _announce(event_id, "attendee_checkin", point_id, data)
    return result


def _earlier_checkins(client_id: str, event_id: int,
                      attendee_id: Any) -> tuple[AttendeeCheckin | None, AttendeeCheckin | None, int | None]:
    """(the check-in under this scan id, the person's check-in at this event, that person's id), one query.

    The person is only known up front when the scan names an attendee id; for a badge scan (read
    later) the last two are None and the caller asks for the person's check-in once it is resolved.
    """
    number = row_id(attendee_id)
    if number is None:
        first = db.session.scalar(select(AttendeeCheckin).where(AttendeeCheckin.client_id == client_id))
        return first, None, None
    rows = db.session.scalars(select(AttendeeCheckin).where(or_(
        AttendeeCheckin.client_id == client_id,
        and_(AttendeeCheckin.event_id == event_id, AttendeeCheckin.attendee_id == number)))).all()
    first = next((r for r in rows if r.client_id == client_id), None)
    existing = next((r for r in rows if r.event_id == event_id and r.attendee_id == number), None)
    return first, existing, number


def _replay(first: AttendeeCheckin, point_id: int, badge: str | None, attendee_id: Any) -> CheckinResult:
    """The first answer to a retried scan, if it really is the same scan."""
    same_person = True
    if attendee_id not in (None, ""):
        same_person = str(first.attendee_id) == str(attendee_id)
    elif badge:
        try:
            same_person = read_badge_token(badge).badge_code == first.attendee.badge_code
        except TokenError:
            same_person = False
    if first.event_point_id != point_id or not same_person:
        raise CheckinRefused("client_id_reused", _("This scan id was already used for another scan."))
    return _accepted(first, replay=True)


# --- reading -----------------------------------------------------------------------------------

def open_site_token(token: str, user: User, *, now: datetime | None = None) -> EventPoint:
    """The point behind a scanned QR, refused (and audited) if the token or the time is wrong.

    A point already checked in opens whatever the time: its host page says when and by whom.
    """
    point = resolve_site_token(token, user)
    if point.checked_in_dt is None:
        try:
            check_window(point.event, now or utcnow())
        except CheckinRefused as exc:
            _audit_refusal(exc, user, point_id=point.id)
            raise
    return point


def get_event(event_id: int) -> Event:
    """The event or NotFound."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise CheckinRefused("unknown_event", _("This event does not exist."))
    return event


def get_point(point_id: int, *, event_id: int | None = None) -> EventPoint:
    """The event point (of `event_id` if given) or `unknown_point`."""
    point = db.session.get(EventPoint, point_id,
                           options=[joinedload(EventPoint.event), joinedload(EventPoint.unit)])
    if point is None or (event_id is not None and point.event_id != event_id):
        raise CheckinRefused("unknown_point", _("This connection point is not invited to the event."))
    return point


def event_points(event: Event) -> list[EventPoint]:
    """The event's points, the host point first, then by unit code (districts before their communes)."""
    from sqlalchemy.orm import selectinload

    from launch.models import Unit

    return list(db.session.scalars(
        select(EventPoint).join(Unit, EventPoint.unit_id == Unit.id).where(EventPoint.event_id == event.id)
        .options(selectinload(EventPoint.unit).selectinload(Unit.parent), selectinload(EventPoint.checked_in_by))
        .order_by(EventPoint.is_host.desc(), Unit.code)
    ))


def my_points(user: User, *, now: datetime | None = None) -> list[EventPoint]:
    """Points `user` may act for in events not over (cancelled and ended excluded), soonest first."""
    from launch.services.access import scoped_unit_ids

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
