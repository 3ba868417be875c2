"""What a host's phone shows about its point: the video-conference details the host needs at the
point, how many people to expect, and the roster kept on the phone for offline scans and search.

Read-only: every write stays in launch.services.checkin.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Attendee, AttendeeCheckin, EventPoint
from launch.services.roster import point_unit_ids, roster_for_point
from launch.services.tokens import badge_token


@dataclass(frozen=True)
class VcDetails:
    """How this point joins the call: its own endpoint (room), and the event's meeting id, passcode, link."""

    endpoint: str | None
    meeting_id: str | None
    passcode: str | None
    link: str | None

    @property
    def any(self) -> bool:
        return any((self.endpoint, self.meeting_id, self.passcode, self.link))


def vc_details(point: EventPoint) -> VcDetails:
    """The point's endpoint (the event's override, else the unit's) and the meeting's id, passcode, link:
    what the reminders tell the host, on the host's page."""
    event = point.event
    return VcDetails(
        endpoint=(point.vc_endpoint or point.unit.vc_endpoint or "").strip() or None,
        meeting_id=(event.meeting_id or "").strip() or None,
        passcode=(event.meeting_passcode or "").strip() or None,
        link=(event.meeting_url or "").strip() or None,
    )


def roster_size(point: EventPoint) -> int:
    """How many people of the roster are expected at the point (its unit and those below)."""
    return db.session.scalar(
        select(func.count()).select_from(Attendee)
        .where(Attendee.event_id == point.event_id, Attendee.unit_id.in_(point_unit_ids(point)))
    ) or 0


def expected_people(point: EventPoint) -> int | None:
    """Whom to expect: the roster's size when the point has a roster, else the expected attendance set
    for the point, else None (unknown: shown as "—", never as 0)."""
    size = roster_size(point)
    if size:
        return size
    return point.expected_attendance or None


def badge_fingerprint(token: str) -> str:
    """What the phone keeps to recognise a badge offline: a hash of the badge QR's text, not the text
    itself (the badge cannot be rebuilt from it)."""
    return hashlib.sha256(token.encode()).hexdigest()[:20]


def offline_roster(point: EventPoint) -> list[dict[str, Any]]:
    """The people expected at the point, for the scanner: name, position, unit, their badge's
    fingerprint (to name a badge scanned offline) and whether and where they are checked in."""
    from launch.services.checkin import point_label

    people = roster_for_point(point)
    done = {row.attendee_id: row for row in db.session.scalars(
        select(AttendeeCheckin).where(AttendeeCheckin.event_id == point.event_id,
                                      AttendeeCheckin.attendee_id.in_([a.id for a in people]))
    )} if people else {}
    out = []
    for person in people:
        row = done.get(person.id)
        entry: dict[str, Any] = {
            "id": person.id, "name": person.full_name, "position": person.position,
            "unit": person.unit.name if person.unit else None, "badge": badge_fingerprint(badge_token(person)),
            "checked_in_dt": None, "here": None, "where": None,
        }
        if row is not None:
            entry["checked_in_dt"] = row.scanned_dt.isoformat().replace("+00:00", "Z")
            entry["here"] = row.event_point_id == point.id
            entry["where"] = None if entry["here"] else point_label(row.event_point)
        out.append(entry)
    return out
