"""An event's roster of expected attendees: CSV import (all or nothing), search, badges (the demo
roster: `launch.demo.roster`)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Attendee, Event, EventPoint, RevokedBadge, Unit, User
from launch.services import audit
from launch.services.csvfile import LineError, csv_lines, decode_csv_bytes, open_csv, refused
from launch.services.directory import code_candidates
from launch.services.errors import NotFound
from launch.services.text import fold, row_id

REQUIRED_COLUMNS = ("name", "unit")
OPTIONAL_COLUMNS = ("position", "phone")
MAX_ROWS = 20_000


@dataclass
class RosterResult:
    """What a roster import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def new_badge_code() -> str:
    """A random, unguessable badge code."""
    return secrets.token_hex(10)


def parse_roster_csv(event: Event, text: str) -> list[dict[str, Any]]:
    """Check every line (name, unit code invited to the event, position, phone); all problems at once."""
    reader, header = open_csv(text, REQUIRED_COLUMNS, lower=True)
    invited = dict(db.session.execute(
        select(Unit.code, Unit.id).join(EventPoint, EventPoint.unit_id == Unit.id)
        .where(EventPoint.event_id == event.id)
    ).all())
    known = set(db.session.scalars(select(Unit.code)))
    errors: list[LineError] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_lines(reader, errors):
        name, code = " ".join(row.get("name", "").split()), row.get("unit", "")
        # A code a spreadsheet stripped of its leading zeros is matched at its level's width.
        code = next((c for c in code_candidates(code) if c in invited), code) if code else code
        if not name:
            errors.append(LineError(line, _("the name is empty"), "empty_name"))
        elif len(name) > 200:
            errors.append(LineError(line, _("the name is longer than 200 characters"), "too_long"))
        if not code:
            errors.append(LineError(line, _("the unit code is empty"), "empty_code"))
        elif code not in known and not any(c in known for c in code_candidates(code)):
            errors.append(LineError(line, _("unknown unit %(code)s", code=code), "unknown_unit"))
        elif code not in invited:
            errors.append(LineError(line, _("unit %(code)s is not invited to this event", code=code), "not_invited"))
        for col, limit in (("position", 200), ("phone", 40)):
            if len(row.get(col, "")) > limit:
                errors.append(LineError(line, _("%(col)s is longer than %(n)d characters", col=col, n=limit),
                                        "too_long"))
        key = (fold(name), code)
        if name and code and key in seen:
            errors.append(LineError(line, _("%(name)s is listed twice for unit %(code)s (first on line %(first)d)",
                                            name=name, code=code, first=seen[key]), "duplicate"))
        else:
            seen[key] = line
        rows.append({"line": line, "name": name, "unit_id": invited.get(code), "position": row.get("position") or None,
                     "phone": row.get("phone") or None})
    if not rows and not errors:
        errors.append(LineError(1, _("the file has no attendees"), "empty_file"))
    if len(rows) > MAX_ROWS:
        errors.append(LineError(1, _("the file has more than %(n)d attendees", n=MAX_ROWS), "too_many_rows"))
    if errors:
        raise refused(errors)
    return rows


def import_roster(event: Event, data: bytes | str, *, actor: User | None = None) -> RosterResult:
    """Import a roster CSV: all lines checked first, then all written; people matched by name and unit."""
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    rows = parse_roster_csv(event, text)
    existing = {(a.search_name, a.unit_id): a
                for a in db.session.scalars(select(Attendee).where(Attendee.event_id == event.id))}
    result = RosterResult()
    try:
        for row in rows:
            person = existing.get((fold(row["name"]), row["unit_id"]))
            if person is None:
                person = Attendee(event_id=event.id, unit_id=row["unit_id"], full_name=row["name"],
                                  search_name=fold(row["name"]), position=row["position"], phone=row["phone"],
                                  badge_code=new_badge_code())
                db.session.add(person)
                existing[(person.search_name, person.unit_id)] = person
                result.created += 1
            elif (person.full_name, person.position, person.phone) != (row["name"], row["position"], row["phone"]):
                person.full_name, person.position, person.phone = row["name"], row["position"], row["phone"]
                result.updated += 1
            else:
                result.unchanged += 1
        if result.created or result.updated:
            audit.record("roster.imported",
                         f"roster of event {event.id}: {result.created} created, {result.updated} updated",
                         user=actor, target=event, details={"created": result.created, "updated": result.updated})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def search_attendees(event: Event, q: str | None, *, unit_ids: set[int] | None = None,
                     limit: int = 30) -> list[Attendee]:
    """People on the roster whose name has every word of `q` (diacritics and case ignored)."""
    if not fold(q):
        return []
    stmt = _with_name(select(Attendee).where(Attendee.event_id == event.id), q)
    if unit_ids is not None:
        stmt = stmt.where(Attendee.unit_id.in_(unit_ids))
    return list(db.session.scalars(stmt.order_by(Attendee.search_name).limit(limit)))


def point_unit_ids(point: EventPoint) -> set[int]:
    """The point's unit and every unit below it (a district point also receives its communes' people,
    a province's IOC at a national launch its communes')."""
    ids = {point.unit_id}
    frontier = [point.unit_id]
    while frontier:
        frontier = [i for i in db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))) if i not in ids]
        ids.update(frontier)
    return ids


def roster_for_point(point: EventPoint) -> list[Attendee]:
    """The people expected at a point (its unit and those below), for the scanner's offline search."""
    return list(db.session.scalars(
        select(Attendee).where(Attendee.event_id == point.event_id, Attendee.unit_id.in_(point_unit_ids(point)))
        .order_by(Attendee.search_name)
    ))


def get_attendee(event: Event, attendee_id: object) -> Attendee:
    """A person on `event`'s roster, or NotFound."""
    number = row_id(attendee_id)
    attendee = db.session.get(Attendee, number) if number is not None else None
    if attendee is None or attendee.event_id != event.id:
        raise NotFound("unknown_attendee", _("This person is not on the event's roster (any more)."))
    return attendee


def reissue_badge(attendee: Attendee, *, actor: User | None = None, now: datetime | None = None) -> Attendee:
    """A new badge for one person (the old one was lost or given away): the old QR is refused by name
    from now on, the person's check-in (if any) stays. Audited."""
    now = now or utcnow()
    db.session.add(RevokedBadge(event_id=attendee.event_id, attendee_id=attendee.id, badge_code=attendee.badge_code,
                                revoked_dt=now, revoked_by_id=actor.id if actor else None))
    attendee.badge_code = new_badge_code()
    audit.record("badge.reissued", f"badge of {attendee.full_name} replaced; the old one is refused", user=actor,
                 target=attendee, details={"event_id": attendee.event_id})
    db.session.commit()
    return attendee


def revoked_badge(event_id: int, badge_code: str) -> RevokedBadge | None:
    """The revocation of this badge code in this event, if it was replaced."""
    return db.session.scalar(select(RevokedBadge).where(RevokedBadge.badge_code == badge_code,
                                                        RevokedBadge.event_id == event_id))


def _with_name(stmt: Select, q: str | None) -> Select:
    """Keep the people whose name has every word of `q` (diacritics and case ignored)."""
    for word in fold(q).split():
        stmt = stmt.where(Attendee.search_name.contains(word, autoescape=True))
    return stmt


def roster_query(event: Event, q: str | None = None) -> Select:
    """The roster as a query (for paging), by unit then name; `q` keeps names with every word of it."""
    stmt = select(Attendee).join(Unit, Attendee.unit_id == Unit.id, isouter=True).where(Attendee.event_id == event.id)
    return _with_name(stmt, q).order_by(Unit.code, Attendee.search_name, Attendee.id)


def event_attendees(event: Event, unit_code: str | None = None) -> list[Attendee]:
    """The roster, by unit then name (for badge sheets)."""
    stmt = roster_query(event)
    if unit_code:
        stmt = stmt.where(Unit.code == unit_code)
    return list(db.session.scalars(stmt))
