"""Attendee check-in: a person is counted once per event, at the point that scanned first.

A scan carries a client id, unique in the database: a retry (an offline phone syncing, a lost
answer) gets the first answer and records nothing. A person's check-in relies on the unique
(event, attendee) key, so two points scanning one person at once record them once.

The accepted path (every scan of a launch) reads and writes with SQLAlchemy Core, not the ORM:
three small reads (earlier scans, the person, nothing else) and two INSERTs in one commit, with no
objects to build, track, flush and expire. Retries and refusals, rare, still load ORM rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import launch.services.checkin.statements as sql
from launch.clock import as_utc, iso, utcnow
from launch.extensions import db
from launch.models import Attendee, AttendeeCheckin, EventPoint, User
from launch.services.checkin.corrections import refuse_undone_scan
from launch.services.checkin.rules import (
    CLIENT_ID_RE,
    CLOCK_SKEW,
    CheckinRefused,
    CheckinResult,
    announce,
    attendee_walk_in,
    audit_refusal,
    check_window,
    local_time,
    point_label,
    require_scope,
    walk_in_answer,
    was_walk_in,
)
from launch.services.roster import revoked_badge
from launch.services.text import MAX_ID, row_id
from launch.services.tokens import TokenError, read_badge_token


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


@dataclass(frozen=True)
class Person:
    """What a check-in needs of an attendee (read with Core on the accepted path)."""

    id: int
    event_id: int
    full_name: str
    position: str | None
    unit_name: str | None
    unit_id: int | None


def _attendee_dict(attendee: Attendee | Person) -> dict[str, Any]:
    unit = attendee.unit_name if isinstance(attendee, Person) else (attendee.unit.name if attendee.unit else None)
    return {"id": attendee.id, "name": attendee.full_name, "position": attendee.position, "unit": unit}


def _accepted_answer(person: Attendee | Person, *, client_id: str, checkin_id: int, point_id: int,
                     scanned: datetime, recorded: datetime, method: str, replay: bool) -> CheckinResult:
    return CheckinResult(
        "checked_in",
        _("%(name)s is checked in.", name=person.full_name),
        {"attendee": _attendee_dict(person), "client_id": client_id, "checkin_id": checkin_id,
         "point_id": point_id, "scanned_dt": iso(scanned), "recorded_dt": iso(recorded),
         "method": method, "replay": replay, "walk_in": False},
    )


def _accepted(row: AttendeeCheckin, *, replay: bool) -> CheckinResult:
    return _accepted_answer(row.attendee, client_id=row.client_id, checkin_id=row.id, point_id=row.event_point_id,
                            scanned=row.scanned_dt, recorded=row.recorded_dt, method=row.method, replay=replay)


def _already_attendee(row: AttendeeCheckin, point_id: int) -> CheckinRefused:
    attendee = row.attendee
    details = {"attendee": _attendee_dict(attendee), "checked_in_dt": iso(row.scanned_dt),
               "point_id": row.event_point_id, "point": point_label(row.event_point),
               "checked_in_by": row.by_user.display_name if row.by_user else None}
    if row.event_point_id == point_id:
        return CheckinRefused(
            "already_checked_in",
            _("%(name)s was already checked in here at %(time)s. Nothing changed.",
              name=attendee.full_name, time=local_time(row.scanned_dt)), **details)
    return CheckinRefused(
        "checked_in_elsewhere",
        _("%(name)s was already checked in at %(point)s at %(time)s.",
          name=attendee.full_name, point=point_label(row.event_point), time=local_time(row.scanned_dt)), **details)


def _resolve_attendee(point: EventPoint, badge: str | None, attendee_id: Any) -> Person:
    if badge:
        claim = read_badge_token(badge)
        if claim.event_id != point.event_id:
            raise CheckinRefused("wrong_event", _("This badge belongs to another event."), event_id=claim.event_id)
        row = sql.run(sql.PERSON_BY_BADGE, {"badge_code": claim.badge_code, "event_id": claim.event_id}).first()
        attendee = Person(*row) if row is not None else None
        if attendee is None:
            gone = revoked_badge(claim.event_id, claim.badge_code)
            if gone is not None:
                raise CheckinRefused(
                    "revoked", _("This badge of %(name)s was replaced on %(time)s: scan the new badge.",
                                 name=gone.attendee.full_name, time=local_time(gone.revoked_dt)),
                    attendee_id=gone.attendee_id)
    else:
        try:
            number = int(attendee_id)
            if not 0 < number <= MAX_ID:  # an id the database can hold (a huge one overflowed: 500)
                raise ValueError(number)
        except (TypeError, ValueError, OverflowError):
            raise CheckinRefused("invalid_input", _("Scan a badge or choose a person.")) from None
        row = sql.run(sql.PERSON_BY_ID, {"attendee_id": number}).first()
        attendee = Person(*row) if row is not None else None
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
        require_scope(point, user)
        if not CLIENT_ID_RE.match(client_id or ""):
            raise CheckinRefused("invalid_input", _("The scan has no valid client id."))
        first, known, known_for = _earlier_checkins(client_id, event_id, None if badge else attendee_id)
        if first is not None:
            result = _replay(first, point_id, badge, attendee_id)
            # The first attempt's announcement may have died with its process: deltas are idempotent.
            announce(event_id, "attendee_checkin", point_id, {"replay": True})
            return result
        refuse_undone_scan(client_id)  # a late retry of a scan that was undone since
        attendee = _resolve_attendee(point, badge, attendee_id)
        walk_in = attendee_walk_in(point, user, attendee)  # the people of one's units, or allowed walk-ins
        scanned = parse_scanned_dt(scanned_dt, now=now)
        check_window(point.event, scanned)
    except (TokenError, CheckinRefused) as exc:
        audit_refusal(exc, user, point_id=point_id, client_id=(client_id or "")[:64],
                       badge=(badge or "")[:120] or None)
        raise
    # looked up with the replay check when the scan named the person: the row, or None when there is none
    existing = known if known_for == attendee.id else _checkin_of(event_id, attendee.id)
    if existing is not None:
        if existing.client_id == client_id:  # the same scan, retried while the first was being recorded
            return _replay(existing, point_id, badge, attendee_id)
        raise _already_attendee(existing, point_id)
    fields = {"event_id": event_id, "attendee_id": attendee.id, "event_point_id": point_id, "client_id": client_id,
              "scanned_dt": scanned, "recorded_dt": now, "by_user_id": user.id, "method": method}
    try:
        checkin_id = sql.run(sql.INSERT_CHECKIN, fields).scalar_one()
    except IntegrityError as exc:
        return _lost_race(exc, fields, badge)
    data = {"attendee_id": attendee.id, "name": attendee.full_name, "method": method, "checkin_id": checkin_id,
            "walk_in": walk_in}
    sql.run(sql.INSERT_ACTIVITY, {"event_id": event_id, "event_point_id": point_id, "kind": "attendee_checkin",
                                  "created_dt": now, "data": data})
    db.session.commit()
    announce(event_id, "attendee_checkin", point_id, data)
    result = _accepted_answer(attendee, client_id=client_id, checkin_id=checkin_id, point_id=point_id,
                              scanned=scanned, recorded=now, method=method, replay=False)
    return walk_in_answer(result, attendee) if walk_in else result


def _lost_race(exc: IntegrityError, row: dict[str, Any], badge: str | None) -> CheckinResult:
    """The INSERT hit a unique key: the same scan retried, or the same person scanned elsewhere at the
    same moment. The retry gets the first answer; the other point is told where the person is."""
    client_id, event_id, attendee_id, point_id = row["client_id"], row["event_id"], row["attendee_id"], \
        row["event_point_id"]
    db.session.rollback()
    first = db.session.scalar(select(AttendeeCheckin).where(AttendeeCheckin.client_id == client_id))
    if first is not None:
        return _replay(first, point_id, badge, attendee_id)
    existing = db.session.scalar(
        select(AttendeeCheckin).where(AttendeeCheckin.event_id == event_id,
                                      AttendeeCheckin.attendee_id == attendee_id)
    )
    if existing is None:
        raise exc
    raise _already_attendee(existing, point_id) from None


def _earlier_checkins(client_id: str, event_id: int,
                      attendee_id: Any) -> tuple[AttendeeCheckin | None, AttendeeCheckin | None, int | None]:
    """(the check-in under this scan id, the person's check-in at this event, that person's id), one query.

    The person is only known up front when the scan names an attendee id; for a badge scan (read
    later) the last two are None and the caller asks for the person's check-in once it is resolved.
    """
    number = row_id(attendee_id)
    # Ids only (Core): a first scan, the usual case, finds nothing and builds no object.
    if number is None:
        ids = sql.run(sql.EARLIER_BY_SCAN, {"client_id": client_id}).scalars().all()
    else:
        ids = sql.run(sql.EARLIER, {"client_id": client_id, "event_id": event_id,
                                    "attendee_id": number}).scalars().all()
    rows = [db.session.get(AttendeeCheckin, i) for i in ids]
    first = next((r for r in rows if r.client_id == client_id), None)
    if number is None:
        return first, None, None
    existing = next((r for r in rows if r.event_id == event_id and r.attendee_id == number), None)
    return first, existing, number


def _checkin_of(event_id: int, attendee_id: int) -> AttendeeCheckin | None:
    """The person's check-in at the event, if any (loaded as an object only when there is one)."""
    found = sql.run(sql.CHECKIN_OF, {"event_id": event_id, "attendee_id": attendee_id}).scalar()
    return db.session.get(AttendeeCheckin, found) if found is not None else None


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
    result = _accepted(first, replay=True)
    return walk_in_answer(result, first.attendee) if was_walk_in(first) else result
