"""Host-page presence: is the check-in page of a point connected right now?

The host's page (static/js/presence.js) holds a Socket.IO connection and sends a heartbeat every
few seconds; each one stores `EventPoint.last_seen_dt`. A page silent for longer than
PRESENCE_TIMEOUT_SECONDS shows "signal lost": `check_presence` (a scheduler job) records that in the
activity feed and announces it, and the next heartbeat brings the point back to "live" by itself.
Everything lives in the database, so it works the same with one process or several.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint
from launch.services.wall import PRESENCE_KINDS, PRESENCE_STATES, presence_timeout
from launch.signals import wall_change

TOKEN_SALT = "launch.presence"


def heartbeat_seconds() -> int:
    """How often a host page says it is there: a third of the timeout, at most 15 s."""
    return max(2, min(15, int(presence_timeout().total_seconds() // 3)))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def presence_token(point: EventPoint) -> str:
    """The token a point's host page presents (data-token): signed point id + its token version."""
    return _serializer().dumps({"p": point.id, "v": point.token_version})


def point_for_token(token: str | None, point_id: Any = None) -> EventPoint | None:
    """The point a presence token, or the point's QR check-in token, names; None if neither.

    Both are revoked with the point's QR codes (they carry its token version).
    """
    if not token:
        return None
    claimed: tuple[Any, Any] | None = None
    try:
        data = _serializer().loads(token)
        if isinstance(data, dict):
            claimed = (data.get("p"), data.get("v"))
    except BadSignature:
        claimed = _site_claim(token)
    if claimed is None or (point_id not in (None, "") and str(claimed[0]) != str(point_id)):
        return None
    point = db.session.get(EventPoint, claimed[0])
    if point is None or point.token_version != claimed[1]:
        return None
    return point


def _site_claim(token: str) -> tuple[int, int] | None:
    """(point id, version) of the check-in QR token, if the check-in feature's tokens accept it."""
    try:
        from launch.services.tokens import read_site_token
    except ImportError:
        return None
    try:
        claim = read_site_token(token)
    except Exception:  # noqa: BLE001  (not a site token)
        return None
    return claim.event_point_id, claim.version


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
                                data={"last_seen": previous.isoformat() if previous else None}))
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
                                data={"last_seen": row.last_seen_dt.isoformat()}))
    if lost:
        db.session.commit()
    for row in lost:
        wall_change(row.event_id, "presence_lost", row.id)
    return len(lost)
