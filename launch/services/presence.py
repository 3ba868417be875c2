"""Host-page presence: is the check-in page of a point connected right now?

The host's page (static/js/presence.js) holds a Socket.IO connection and sends a heartbeat every
few seconds. The connection proves who it is by the signed-in host's session, or by a short-lived
token the host page was given (bound to that host and their session: signing out voids it); the
printed QR is NOT a presence credential. A point's `EventPoint.last_seen_dt` is written at most once
per heartbeat interval per process (extra beats cost a dictionary look-up, no query, no commit).
A page silent for longer than PRESENCE_TIMEOUT_SECONDS shows "signal lost": `check_presence` (a
scheduler job) records that in the activity feed and announces it, and the next heartbeat brings the
point back to "live" by itself. A page that closes says so first (a pagehide beacon,
`record_page_closing`): a host who puts the phone away is not a lost signal, the point shows quietly.
Everything lives in the database, so it works the same with one process or several.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint, User
from launch.services.wall import PRESENCE_KINDS, PRESENCE_STATES, presence_timeout
from launch.signals import wall_change

TOKEN_SALT = "launch.presence.v2"
#: How long a host page's presence token opens a connection (the page's own session keeps working after).
DEFAULT_TOKEN_SECONDS = 15 * 60


def heartbeat_seconds() -> int:
    """How often a host page says it is there: a third of the timeout, at most 15 s."""
    return max(2, min(15, int(presence_timeout().total_seconds() // 3)))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def token_seconds() -> int:
    """PRESENCE_TOKEN_SECONDS: how long a presence token opens a connection."""
    return int(current_app.config.get("PRESENCE_TOKEN_SECONDS", DEFAULT_TOKEN_SECONDS))


def presence_token(point: EventPoint, user: User) -> str:
    """The token a point's host page presents (data-token), issued to the signed-in `user` who may act
    for the point: signed point id, its token version, the user and their session generation; it
    expires after `token_seconds()` and dies with the user's session or the point's QR codes."""
    return _serializer().dumps({"p": point.id, "v": point.token_version, "u": user.id, "s": user.session_token})


def point_for_token(token: str | None, point_id: Any = None) -> EventPoint | None:
    """The point a valid presence token names; None if forged, expired, revoked, or its issuer signed out.

    The printed QR check-in token is never accepted here: it is on paper, anyone may photograph it.
    """
    from launch.services.access import can_act_for

    if not token or not isinstance(token, str) or len(token) > 500:
        return None
    try:
        data = _serializer().loads(token, max_age=token_seconds())
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or (point_id not in (None, "") and str(data.get("p")) != str(point_id)):
        return None
    point = db.session.get(EventPoint, data.get("p")) if isinstance(data.get("p"), int) else None
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if point is None or point.token_version != data.get("v") or user is None or not user.is_active:
        return None
    if user.session_token != data.get("s") or not can_act_for(user, point.unit_id):
        return None
    return point


def _last_presence_kind(point_ids: list[int]) -> dict[int, str]:
    """The newest presence activity kind of each point."""
    if not point_ids:
        return {}
    rows = db.session.execute(
        select(Activity.event_point_id, Activity.kind)
        .where(Activity.event_point_id.in_(point_ids), Activity.kind.in_(PRESENCE_KINDS))
        .order_by(Activity.created_dt.desc(), Activity.id.desc())
    )
    out: dict[int, str] = {}
    for point_id, kind in rows:
        out.setdefault(point_id, kind)
    return out


def _write_every() -> timedelta:
    """A point's last_seen_dt is written at most this often (per process): one heartbeat interval."""
    return timedelta(seconds=heartbeat_seconds())


def _recent_writes() -> tuple[threading.Lock, dict[int, datetime]]:
    return current_app.extensions.setdefault("presence_writes", (threading.Lock(), {}))


def record_heartbeat(point_id: int, now: datetime | None = None) -> bool:
    """Store that the point's host page is there; True (and announced) when it (re)appeared.

    Throttled per point: a beat within one interval of the last one written here touches no database
    (a page, or anyone holding its token, sending thousands of beats costs a look-up each).
    """
    now = now or utcnow()
    lock, written = _recent_writes()
    with lock:
        last = written.get(point_id)
        if last is not None and timedelta(0) <= now - last < _write_every():
            return False
        written[point_id] = now
    point = db.session.get(EventPoint, point_id)
    if point is None:
        return False
    previous = point.last_seen_dt
    reopened = point.page_closed_dt is not None  # the page said it closed; it (or a new one) is back
    appeared = reopened or previous is None or now - previous > presence_timeout()
    point.last_seen_dt = now if previous is None else max(previous, now)
    point.page_closed_dt = None
    if appeared:
        last_kind = _last_presence_kind([point.id]).get(point.id)
        kind = "presence_back" if last_kind == "presence_lost" or (previous is not None and not reopened) \
            else "presence_connected"
        db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind=kind, created_dt=now,
                                data={"last_seen": iso(previous)}))
    db.session.commit()
    if appeared:
        wall_change(point.event_id, "presence", point.id)
    return appeared


def record_page_closed(point_id: int, now: datetime | None = None) -> None:
    """The page's socket closed: keep when it was last heard; the timeout decides "signal lost"."""
    point = db.session.get(EventPoint, point_id)
    if point is not None and point.last_seen_dt is not None:
        point.last_seen_dt = max(point.last_seen_dt, now or utcnow())
        db.session.commit()


def record_page_closing(point_id: int, now: datetime | None = None) -> bool:
    """The host page said it is closing (its pagehide beacon): the host put the phone away or went to
    the scanner. The point shows quietly as "page closed", never "signal lost"; the next heartbeat (the
    page reopened) clears it. True (and announced) when it changed the point."""
    now = now or utcnow()
    point = db.session.get(EventPoint, point_id)
    if point is None or point.page_closed_dt is not None:
        return False
    point.page_closed_dt = now
    db.session.add(Activity(event_id=point.event_id, event_point_id=point.id, kind="presence_closed", created_dt=now,
                            data={"last_seen": iso(point.last_seen_dt)}))
    db.session.commit()
    lock, written = _recent_writes()
    with lock:  # the page's next heartbeat (a reload) is written at once, not throttled
        written.pop(point_id, None)
    wall_change(point.event_id, "presence_closed", point.id)
    return True


def check_presence(now: datetime | None = None) -> int:
    """Mark points whose host page went silent as 'signal lost'; returns how many changed."""
    now = now or utcnow()
    cutoff = now - presence_timeout()
    silent = db.session.execute(
        select(EventPoint.id, EventPoint.event_id, EventPoint.last_seen_dt)
        .join(Event, Event.id == EventPoint.event_id)
        .where(Event.state.in_(PRESENCE_STATES), EventPoint.last_seen_dt.is_not(None),
               EventPoint.last_seen_dt < cutoff, EventPoint.page_closed_dt.is_(None))
    ).all()
    last = _last_presence_kind([row.id for row in silent])
    lost = [row for row in silent if last.get(row.id) != "presence_lost"]
    for row in lost:
        db.session.add(Activity(event_id=row.event_id, event_point_id=row.id, kind="presence_lost", created_dt=now,
                                data={"last_seen": iso(row.last_seen_dt)}))
    if lost:
        db.session.commit()
    for row in lost:
        wall_change(row.event_id, "presence_lost", row.id)
    return len(lost)
