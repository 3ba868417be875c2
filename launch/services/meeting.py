"""The meeting platform's view: who is in the call, from Zoom's webhooks.

Zoom signs every request: ``x-zm-signature = "v0=" + HMAC-SHA256(secret, "v0:{x-zm-request-timestamp}:{raw body}")``
(hex). ``endpoint.url_validation`` asks us to prove we hold the secret by returning
``HMAC-SHA256(secret, plainToken)``. ``meeting.participant_joined`` / ``meeting.participant_left``
carry ``payload.object.id`` (the meeting id) and ``payload.object.participant`` (``user_name``,
``join_time`` / ``leave_time``). A participant is a point when its display name matches the point's
``EventPoint.meeting_name`` (or, if that is unset, the unit's name), for the testing or live event of
that meeting. Webhooks are retried by Zoom, so every change is idempotent.
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
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint, Unit
from launch.realtime import publisher
from launch.services.text import fold

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
    return re.sub(r"\D", "", str(value or ""))


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


def point_for_participant(event: Event, user_name: Any) -> EventPoint | None:
    """The event's point whose meeting name (or, unset, unit name) is the participant's display name.

    Compared case-insensitively; without diacritics only when that leaves exactly one point.
    """
    if not _norm_name(user_name):
        return None
    rows = db.session.execute(
        select(EventPoint, Unit.name).join(Unit, EventPoint.unit_id == Unit.id).where(EventPoint.event_id == event.id)
    ).all()
    for norm in (_norm_name, fold):
        wanted = norm(user_name)
        for use_meeting_name in (True, False):
            found = [p for p, name in rows
                     if (p.meeting_name if use_meeting_name else (name if not p.meeting_name else None))
                     and norm(p.meeting_name if use_meeting_name else name) == wanted]
            if len(found) == 1 or (found and norm is _norm_name):
                return found[0]
    return None


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
    point = point_for_participant(event, participant.get("user_name"))
    if point is None:
        return {"handled": False, "reason": "unknown_participant"}
    if kind == JOINED:
        changed = participant_joined(point, _parse_time(participant.get("join_time"), now) or now)
    else:
        changed = participant_left(point, _parse_time(participant.get("leave_time"), now) or now)
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
    publisher.announce(point.event_id, "call", point.id)
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
    publisher.announce(point.event_id, "call", point.id)
    return True
