"""Host-page presence: is the check-in page of a point connected right now?

The host's page (static/js/presence.js) holds a Socket.IO connection and sends a heartbeat every
few seconds; each one stores `EventPoint.last_seen_dt`. A page silent for longer than
PRESENCE_TIMEOUT_SECONDS shows "signal lost": `check_presence` (a scheduler job) records that in the
activity feed and announces it, and the next heartbeat brings the point back to "live" by itself.
Everything lives in the database, so it works the same with one process or several. The page
proves which point it is with a signed token (`presence_token`, kept with the other signed tokens
in `launch.services.tokens`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint
from launch.services.tokens import point_for_token as point_for_token  # the page's token, signed with the others
from launch.services.tokens import presence_token as presence_token
from launch.services.wall import PRESENCE_KINDS, PRESENCE_STATES, presence_timeout
from launch.signals import wall_change


def heartbeat_seconds() -> int:
    """How often a host page says it is there: a third of the timeout, at most 15 s."""
    return max(2, min(15, int(presence_timeout().total_seconds() // 3)))


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


def record_heartbeat(point_id: int, now: datetime | None = None) -> bool:
    """Store that the point's host page is there; True (and announced) when it (re)appeared."""
    now = now or utcnow()
    point = db.session.get(EventPoint, point_id)
    if point is None:
        return False
    previous = point.last_seen_dt
    appeared = previous is None or now - previous > presence_timeout()
    point.last_seen_dt = now if previous is None else max(previous, now)
    if appeared:
        last_kind = _last_presence_kind([point.id]).get(point.id)
        kind = "presence_back" if last_kind == "presence_lost" or previous is not None else "presence_connected"
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


def check_presence(now: datetime | None = None) -> int:
    """Mark points whose host page went silent as 'signal lost'; returns how many changed."""
    now = now or utcnow()
    cutoff = now - presence_timeout()
    silent = db.session.execute(
        select(EventPoint.id, EventPoint.event_id, EventPoint.last_seen_dt)
        .join(Event, Event.id == EventPoint.event_id)
        .where(Event.state.in_(PRESENCE_STATES), EventPoint.last_seen_dt.is_not(None),
               EventPoint.last_seen_dt < cutoff)
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
