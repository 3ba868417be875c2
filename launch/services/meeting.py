"""The meeting platform's view: who is in the call, from Zoom's webhooks.

Zoom signs every request: ``x-zm-signature = "v0=" + HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{raw body}")``
(hex). ``endpoint.url_validation`` asks us to prove we hold the secret by returning
``HMAC-SHA256(secret, plainToken)``. ``meeting.participant_joined`` / ``meeting.participant_left``
carry ``payload.object.id`` (the meeting id) and ``payload.object.participant`` (``user_name``,
``email``, ``join_time`` / ``leave_time``). The meeting id must equal the event's exactly (digits, the
spaces Zoom prints them with aside). A participant is a point only when it is named explicitly: its
e-mail is the point's ``EventPoint.meeting_email``, or its display name the point's
``EventPoint.meeting_name``; never a guess from unit names, which repeat ("Phường Nguyễn Nghiêm" is
in TP Quảng Ngãi and in TX Đức Phổ). A participant that matches no point, or several, is kept in
``MeetingParticipant`` and listed on the wall until an operator assigns it to its point. Webhooks are
retried by Zoom, so every change is idempotent.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint, MeetingParticipant, User
from launch.services import audit
from launch.services.errors import DomainError, NotFound
from launch.services.text import fold
from launch.signals import participants_change, wall_change

MEETING_STATES = ("testing", "live")
JOINED, LEFT, URL_VALIDATION = "meeting.participant_joined", "meeting.participant_left", "endpoint.url_validation"
#: A join or leave time further than this from our clock is not believed (the webhook's arrival time is used).
MAX_TIME_SKEW = timedelta(hours=24)


def webhook_secret() -> str | None:
    """ZOOM_WEBHOOK_SECRET_TOKEN from the app's config, else from the environment."""
    return current_app.config.get("ZOOM_WEBHOOK_SECRET_TOKEN") or os.environ.get("ZOOM_WEBHOOK_SECRET_TOKEN") or None


def _hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The x-zm-signature Zoom sends for `body` at `timestamp`."""
    return "v0=" + _hmac(secret, b"v0:" + timestamp.encode() + b":" + body)


def verify_signature(secret: str | None, timestamp: str | None, body: bytes, signature: str | None,
                     now: datetime | None = None) -> bool:
    """True if Zoom signed `body` with our secret, recently (ZOOM_WEBHOOK_MAX_AGE_SECONDS, 0 = no limit)."""
    if not secret or not timestamp or not signature:
        return False
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        return False
    max_age = float(current_app.config.get("ZOOM_WEBHOOK_MAX_AGE_SECONDS", 300))
    if max_age > 0:
        try:
            sent = float(timestamp)
        except ValueError:
            return False
        if not math.isfinite(sent):  # "nan" compares false with everything: it would pass any age check
            return False
        if sent > 10**11:  # milliseconds
            sent /= 1000
        if abs((now or utcnow()).timestamp() - sent) > max_age:
            return False
    return True


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to Zoom's endpoint.url_validation challenge."""
    return {"plainToken": plain_token, "encryptedToken": _hmac(secret, plain_token.encode())}


def _norm_meeting_id(value: Any) -> str:
    """Zoom's numeric id as digits ("856 7123 4567" = 85671234567); any other id compared as typed.

    Only spaces and dashes between digits are dropped: "IOC-QNG-2023" is not the meeting 2023.
    """
    text = " ".join(str(value if value is not None else "").split())
    if re.fullmatch(r"[0-9][0-9 -]*", text):
        return re.sub(r"[ -]", "", text)
    return text.casefold()


def _norm_name(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value or "")).casefold().split())


def _parse_time(value: Any, now: datetime) -> datetime | None:
    """A webhook's join/leave time in UTC, or None if unreadable or implausible (year 0001 or 9999:
    not a time the database and the wall's arithmetic can hold, nor one a real call has)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return None
        parsed = parsed.astimezone(UTC)
        if abs(parsed - now) > MAX_TIME_SKEW:
            return None
    except (ValueError, OverflowError):
        return None
    return parsed


def event_for_meeting(meeting_id: Any) -> Event | None:
    """The testing or live event of that meeting (a live one first, then the nearest start)."""
    wanted = _norm_meeting_id(meeting_id)
    if not wanted:
        return None
    events = db.session.scalars(
        select(Event).where(Event.state.in_(MEETING_STATES), Event.meeting_id.is_not(None))
    ).all()
    matches = [e for e in events if _norm_meeting_id(e.meeting_id) == wanted]
    now = utcnow()
    matches.sort(key=lambda e: (e.state != "live", abs((e.start_dt - now).total_seconds())))
    return matches[0] if matches else None


UNMATCHED, AMBIGUOUS = "unmatched", "ambiguous"


def match_participant(event: Event, user_name: Any, email: Any = None) -> tuple[EventPoint | None, list[EventPoint]]:
    """(the point, []) when exactly one point is named by this e-mail or display name, else (None, the
    candidates: several points when ambiguous, none when unmatched).

    The e-mail (the point's meeting_email) first, then the display name (meeting_name) case-insensitively,
    then without diacritics; a step that finds several points stops there: it is ambiguous, never guessed.
    """
    points = list(db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id)))
    mail = str(email or "").strip().casefold()
    if mail:
        found = [p for p in points if p.meeting_email and p.meeting_email.strip().casefold() == mail]
        if found:
            return (found[0], []) if len(found) == 1 else (None, found)
    if not _norm_name(user_name):
        return None, []
    for norm in (_norm_name, fold):
        wanted = norm(user_name)
        found = [p for p in points if p.meeting_name and norm(p.meeting_name) == wanted]
        if found:
            return (found[0], []) if len(found) == 1 else (None, found)
    return None, []


def point_for_participant(event: Event, user_name: Any, email: Any = None) -> EventPoint | None:
    """The one point this participant is, or None (unmatched or ambiguous)."""
    return match_participant(event, user_name, email)[0]


def _participant_key(participant: dict[str, Any]) -> str:
    for key in ("participant_uuid", "user_id", "id", "email", "user_name"):
        value = str(participant.get(key) or "").strip()
        if value:
            return f"{key}:{value}"[:200]
    return "unknown"


def _remember_participant(event: Event, participant: dict[str, Any], status: str, kind: str,
                          at: datetime) -> MeetingParticipant:
    """Keep (or update) a participant no point could be matched to, for the operator to assign."""
    key = _participant_key(participant)
    row = db.session.scalar(select(MeetingParticipant).where(MeetingParticipant.event_id == event.id,
                                                             MeetingParticipant.participant_key == key))
    if row is None:
        row = MeetingParticipant(event_id=event.id, participant_key=key, in_call=False)
        db.session.add(row)
    row.user_name = " ".join(str(participant.get("user_name") or "").split())[:200] or "?"
    row.email = (str(participant.get("email") or "").strip()[:200] or None)
    row.status = status
    row.updated_dt = utcnow()
    if kind == JOINED:
        row.in_call, row.joined_dt = True, at
    else:
        row.in_call, row.left_dt = False, at
    db.session.commit()
    return row


def waiting_participants(event_id: int) -> list[MeetingParticipant]:
    """The event's participants waiting for an operator to assign them, in the call first, newest first."""
    return list(db.session.scalars(select(MeetingParticipant).where(MeetingParticipant.event_id == event_id)
                                   .order_by(MeetingParticipant.in_call.desc(), MeetingParticipant.updated_dt.desc(),
                                             MeetingParticipant.id.desc())))


def participants_json(event_id: int) -> list[dict[str, Any]]:
    """What the wall lists (machine values; the page words them)."""
    return [{"id": p.id, "name": p.user_name, "email": p.email, "status": p.status, "in_call": p.in_call}
            for p in waiting_participants(event_id)]


def _participants_changed(event_id: int) -> None:
    participants_change(event_id, participants_json(event_id))


def assign_participant(participant_id: int, point_id: Any, *, actor: User) -> EventPoint:
    """The operator says which point a waiting participant is: the point is given the participant's
    e-mail (or, without one, its display name) so its next webhooks match, and its call state is applied."""
    row = db.session.get(MeetingParticipant, participant_id)
    if row is None:
        raise NotFound("unknown_participant", _("This participant is no longer waiting to be assigned."))
    point = db.session.get(EventPoint, point_id) if isinstance(point_id, int) else None
    if point is None or point.event_id != row.event_id:
        raise DomainError("invalid_input", _("Choose the connection point this participant is."))
    if row.email:
        point.meeting_email = row.email
    else:
        point.meeting_name = row.user_name
        # Two points given one name is what made it ambiguous: the operator said which one it is.
        for other in db.session.scalars(select(EventPoint).where(EventPoint.event_id == point.event_id,
                                                                 EventPoint.id != point.id)):
            if other.meeting_name and _norm_name(other.meeting_name) == _norm_name(row.user_name):
                other.meeting_name = None
    audit.record("meeting.participant_assigned", f"meeting participant {row.user_name!r} assigned to point {point.id}",
                 user=actor, target=point, details={"email": row.email, "name": row.user_name})
    event_id, in_call, joined, left = row.event_id, row.in_call, row.joined_dt, row.left_dt
    db.session.delete(row)
    db.session.commit()
    if in_call and joined is not None:
        participant_joined(point, joined)
    elif left is not None and joined is not None:
        participant_joined(point, joined)
        participant_left(point, left)
    _participants_changed(event_id)
    return point


def handle_event(body: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Apply a participant_joined / participant_left webhook; returns what happened (machine values)."""
    now = now or utcnow()
    kind = body.get("event")
    if kind not in (JOINED, LEFT):
        return {"handled": False, "reason": "ignored_event"}
    obj = (body.get("payload") or {}).get("object") or {}
    participant = obj.get("participant") or {}
    event = event_for_meeting(obj.get("id"))
    if event is None:
        return {"handled": False, "reason": "unknown_meeting"}
    at = _parse_time(participant.get("join_time" if kind == JOINED else "leave_time"), now) or now
    point, candidates = match_participant(event, participant.get("user_name"), participant.get("email"))
    if point is None:
        status = AMBIGUOUS if candidates else UNMATCHED
        _remember_participant(event, participant, status, kind, at)
        _participants_changed(event.id)
        return {"handled": False, "reason": f"{status}_participant", "event_id": event.id,
                "candidates": [p.id for p in candidates]}
    changed = participant_joined(point, at) if kind == JOINED else participant_left(point, at)
    return {"handled": True, "event_id": event.id, "point_id": point.id, "changed": changed}


def participant_joined(point: EventPoint, at: datetime) -> bool:
    """The point joined the call at `at`; False for a repeat or a join older than its last leave."""
    if point.in_call or (point.call_left_dt is not None and at <= point.call_left_dt):
        return False
    point.in_call = True
    point.call_joined_dt = at
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="call_joined", created_dt=at,
                            data={}))
    db.session.commit()
    wall_change(point.event_id, "call", point.id)
    return True


def participant_left(point: EventPoint, at: datetime) -> bool:
    """The point left the call at `at`: its time in the call grows; False if it was not in the call."""
    if not point.in_call:
        return False
    joined = point.call_joined_dt or at
    seconds = max(0, int((at - joined).total_seconds()))
    point.in_call = False
    point.call_left_dt = at
    point.call_seconds = (point.call_seconds or 0) + seconds
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="call_left", created_dt=at,
                            data={"seconds": seconds}))
    db.session.commit()
    wall_change(point.event_id, "call", point.id)
    return True
