"""The live wall's read model: one tile per point, counters, needs-attention and the activity feed.

Everything here is read from the database (never from memory), so a snapshot or a delta is always
the database's current truth; `launch.realtime` numbers and sends what these functions build.

A tile's `status` is one machine word (the template translates it), chosen by priority:
problem > signal_lost > live > checked_in > absent > tested > invited. The three live facts are
also given side by side: `in_call` (the meeting platform), `checked_in` and `page_live` (the host's
check-in page is connected: its last heartbeat is younger than PRESENCE_TIMEOUT_SECONDS).
"""
from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, Event, EventPoint, PointProblem, Unit
from launch.services.events.queries import get_event

#: Every tile status, in priority order (the first that applies wins).
STATUSES = ("problem", "signal_lost", "live", "checked_in", "absent", "tested", "invited")
#: Event states during which a silent host page means "signal lost".
PRESENCE_STATES = ("scheduled", "testing", "live")
#: Activity kinds of the host page's presence.
PRESENCE_KINDS = ("presence_connected", "presence_lost", "presence_back")
FEED_LENGTH = 30
HOST_GROUP = 0  # the group id of the event's host point (the IOC)


def presence_timeout() -> timedelta:
    """How long a host page may be silent before its point shows "signal lost"."""
    return timedelta(seconds=float(current_app.config.get("PRESENCE_TIMEOUT_SECONDS", 45)))


def wall_room(event_id: int, district_id: int | None = None) -> str:
    """The Socket.IO room (and sequence key) of an event's wall, or of one district's wall."""
    return f"wall:{event_id}" if district_id is None else f"wall:{event_id}:d:{district_id}"


def event_info(event: Event, now: datetime | None = None) -> dict[str, Any]:
    """The event's header facts: state and times, plus the server's now for the countdown."""
    return {
        "id": event.id,
        "title": event.title,
        "state": event.state,
        "start_at": iso(event.start_dt),
        "end_at": iso(event.end_dt),
        "now": iso(now or utcnow()),
    }


def tile_status(tile: dict[str, Any]) -> str:
    """The one status word of a tile built by `load_tiles` (see the module docstring)."""
    if tile["problem"]:
        return "problem"
    if tile["signal_lost"]:
        return "signal_lost"
    if tile["page_live"]:
        return "live"
    if tile["checked_in"]:
        return "checked_in"
    if tile["absent"]:
        return "absent"
    if tile["tested"]:
        return "tested"
    return "invited"


def district_group(is_host: bool, unit_id: int, level: str, parent_id: int | None) -> int:
    """The district a point belongs to on the wall: the host point is apart (HOST_GROUP), a district
    is its own group, a commune is its district's."""
    if is_host:
        return HOST_GROUP
    return unit_id if level == "district" or parent_id is None else parent_id


@functools.cache
def _tiles_query(some_points: bool) -> Select:
    """Every point of an event (bind ``event_id``; ``point_ids`` too if `some_points`) with its unit,
    district, attendee count and newest open problem. Built once: the wall sender runs it every flush."""
    parent = aliased(Unit)
    attendees = (
        select(func.count(AttendeeCheckin.id))
        .where(AttendeeCheckin.event_point_id == EventPoint.id)
        .correlate(EventPoint)
        .scalar_subquery()
    )
    open_problem = (
        select(PointProblem.id)
        .where(PointProblem.event_point_id == EventPoint.id, PointProblem.resolved_dt.is_(None))
        .order_by(PointProblem.reported_dt.desc(), PointProblem.id.desc())
        .limit(1)
        .correlate(EventPoint)
        .scalar_subquery()
    )
    stmt = (
        select(EventPoint, Unit, parent.id, parent.name, parent.code, attendees, PointProblem)
        .join(Unit, EventPoint.unit_id == Unit.id)
        .outerjoin(parent, Unit.parent_id == parent.id)
        .outerjoin(PointProblem, PointProblem.id == open_problem)
        .where(EventPoint.event_id == bindparam("event_id"))
    )
    return stmt.where(EventPoint.id.in_(bindparam("point_ids", expanding=True))) if some_points else stmt


def _tile(point: EventPoint, unit: Unit, parent: tuple[int | None, str | None, str | None], n_attendees: int | None,
          problem: PointProblem | None, *, now: datetime, timeout: timedelta, presence_applies: bool) -> dict[str, Any]:
    """One point's tile (see the module docstring); `parent` is (id, name, code) of the unit's parent."""
    parent_id, parent_name, parent_code = parent
    group_id = district_group(point.is_host, unit.id, unit.level, parent_id)
    if group_id == HOST_GROUP:
        group_name, group_code = unit.name, ""
    elif group_id == unit.id:
        group_name, group_code = unit.name, unit.code
    else:
        group_name, group_code = parent_name, parent_code
    seen = point.last_seen_dt
    page_live = bool(seen and now - seen <= timeout)
    tile = {
        "id": point.id,
        "unit_id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "is_host": bool(point.is_host),
        "district_id": group_id,
        "district_name": group_name,
        "order": [0 if point.is_host else 1, group_code, 0 if unit.id == group_id else 1, unit.code],
        "checked_in": point.checked_in_dt is not None,
        "checked_in_at": iso(point.checked_in_dt),
        "checkin_method": point.checkin_method,
        "tested": point.connection_tested_dt is not None,
        "absent": point.absent_dt is not None and point.checked_in_dt is None,
        "headcount": point.headcount,
        "expected": point.expected_attendance or 0,
        "attendees": int(n_attendees or 0),
        "in_call": bool(point.in_call),
        "call_joined_at": iso(point.call_joined_dt),
        "page_live": page_live,
        "signal_lost": bool(presence_applies and seen and not page_live),
        "last_seen_at": iso(seen),
        "problem": (
            {"kind": problem.kind, "text": problem.text or "", "at": iso(problem.reported_dt)} if problem else None
        ),
        "host_name": unit.host_name or "",
        "host_phone": unit.host_phone or "",
    }
    tile["status"] = tile_status(tile)
    return tile


def load_tiles(event: Event, point_ids: set[int] | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tiles of the event's points (all, or `point_ids`) in wall order, read in one query."""
    now = now or utcnow()
    params: dict[str, Any] = {"event_id": event.id}
    if point_ids is not None:
        if not point_ids:
            return []
        params["point_ids"] = sorted(point_ids)
    rows = db.session.execute(_tiles_query(point_ids is not None), params)
    presence_applies, timeout = event.state in PRESENCE_STATES, presence_timeout()
    tiles = [_tile(point, unit, (parent_id, parent_name, parent_code), n_attendees, problem, now=now,
                   timeout=timeout, presence_applies=presence_applies)
             for point, unit, parent_id, parent_name, parent_code, n_attendees, problem in rows]
    tiles.sort(key=lambda t: t["order"])
    return tiles


def in_district(tiles: list[dict[str, Any]], district_id: int | None) -> list[dict[str, Any]]:
    """The tiles a wall of `district_id` shows (all when None)."""
    if district_id is None:
        return tiles
    return [t for t in tiles if t["district_id"] == district_id]


def counters(tiles: list[dict[str, Any]]) -> dict[str, Any]:
    """Checked in / invited (invited = non-host points), per level and per district; attendance."""

    def blank() -> dict[str, int]:
        return {"invited": 0, "checked_in": 0}

    out: dict[str, Any] = {
        "invited": 0, "checked_in": 0, "live": 0, "in_call": 0, "signal_lost": 0, "problems": 0,
        "absent": 0, "attendees_present": 0, "attendees_expected": 0, "attendee_checkins": 0,
        "levels": {"district": blank(), "commune": blank()},
        "districts": [],
    }
    districts: dict[int, dict[str, Any]] = {}
    for t in tiles:
        present = t["headcount"] if t["headcount"] is not None else t["attendees"]
        out["attendees_present"] += present
        out["attendees_expected"] += t["expected"]
        out["attendee_checkins"] += t["attendees"]
        out["live"] += t["page_live"]
        out["in_call"] += t["in_call"]
        out["signal_lost"] += t["signal_lost"]
        out["problems"] += t["problem"] is not None
        if t["is_host"]:
            continue
        out["invited"] += 1
        out["checked_in"] += t["checked_in"]
        out["absent"] += t["absent"]
        level = out["levels"].setdefault(t["level"], blank())
        level["invited"] += 1
        level["checked_in"] += t["checked_in"]
        d = districts.setdefault(t["district_id"], {"id": t["district_id"], "name": t["district_name"], **blank()})
        d["invited"] += 1
        d["checked_in"] += t["checked_in"]
    out["districts"] = list(districts.values())
    return out


def needs_attention(tiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points an operator should call: a problem, then signal lost, then not checked in."""
    rank = {"problem": 0, "signal_lost": 1}
    out = []
    for index, t in enumerate(tiles):
        if t["problem"] or t["signal_lost"] or (not t["checked_in"] and not t["is_host"]):
            out.append({
                "id": t["id"], "name": t["name"], "district_name": t["district_name"], "status": t["status"],
                "reason": t["status"] if t["status"] in rank else "not_checked_in", "problem": t["problem"],
                "host_name": t["host_name"], "host_phone": t["host_phone"], "last_seen_at": t["last_seen_at"],
                "order": (rank.get(t["status"], 2), index),
            })
    out.sort(key=lambda a: a["order"])
    for a in out:
        del a["order"]
    return out


def recent_activity(event_id: int, point_ids: set[int] | None = None, limit: int = FEED_LENGTH) -> list[dict[str, Any]]:
    """The newest activity of the event (or of `point_ids`), newest first."""
    stmt = (
        select(Activity, Unit.name)
        .outerjoin(EventPoint, Activity.event_point_id == EventPoint.id)
        .outerjoin(Unit, EventPoint.unit_id == Unit.id)
        .where(Activity.event_id == event_id)
        .order_by(Activity.created_dt.desc(), Activity.id.desc())
        .limit(limit)
    )
    if point_ids is not None:
        stmt = stmt.where(Activity.event_point_id.in_(point_ids or {-1}))
    return [
        {"id": a.id, "kind": a.kind, "at": iso(a.created_dt), "point_id": a.event_point_id,
         "point_name": name or "", "data": a.data or {}}
        for a, name in db.session.execute(stmt)
    ]


def _public(tile: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in tile.items() if k != "order"}


def build_view(event: Event, tiles: list[dict[str, Any]], district_id: int | None, now: datetime) -> dict[str, Any]:
    """The parts of a snapshot that do not depend on the sequence number."""
    shown = in_district(tiles, district_id)
    ids = None if district_id is None else {t["id"] for t in shown}
    return {
        "event_id": event.id,
        "district_id": district_id,
        "room": wall_room(event.id, district_id),
        "event": event_info(event, now),
        "counters": counters(shown),
        "feed": recent_activity(event.id, ids),
        "tiles": [_public(t) for t in shown],
    }


def full_view(event_id: int, district_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The whole wall (or one district's) as a snapshot shows it, without its sequence number.

    `launch.realtime.snapshots.snapshot` stamps the room's number (read BEFORE this database read)
    and caches the result while that number stands.
    """
    now = now or utcnow()
    event = get_event(event_id)
    view = build_view(event, load_tiles(event, now=now), district_id, now)
    view.update(type="snapshot", attention=needs_attention(view["tiles"]))
    return view


def live_rooms() -> list[str]:
    """The wall rooms of every event under way (scheduled, testing, live): the whole wall and each district's."""
    rows = db.session.execute(
        select(EventPoint.event_id, EventPoint.is_host, Unit.id, Unit.level, Unit.parent_id)
        .join(Unit, Unit.id == EventPoint.unit_id).join(Event, Event.id == EventPoint.event_id)
        .where(Event.state.in_(PRESENCE_STATES))
    ).all()
    rooms: set[str] = set()
    for event_id, is_host, unit_id, level, parent_id in rows:
        rooms.add(wall_room(event_id))
        if not is_host:
            rooms.add(wall_room(event_id, district_group(is_host, unit_id, level, parent_id)))
    return sorted(rooms)


def district_ids(event: Event) -> list[int]:
    """The districts that have a wall for this event (groups other than the host)."""
    return sorted({t["district_id"] for t in load_tiles(event) if t["district_id"] != HOST_GROUP})


#: Tile fields that do not change during an event: sent in snapshots only, so that a delta (sent
#: to every viewer several times a second) carries just what changes. A client that meets a tile
#: it does not know asks for a snapshot.
STATIC_TILE_KEYS = frozenset({"unit_id", "code", "name", "level", "is_host", "district_id", "district_name",
                              "order", "expected", "host_name", "host_phone"})


def slim_tile(tile: dict[str, Any]) -> dict[str, Any]:
    """The changing part of a tile (its full current state, minus the static fields)."""
    return {k: v for k, v in tile.items() if k not in STATIC_TILE_KEYS}


_ACTIVITY_SINCE = (select(Activity.id, Activity.kind, Activity.created_dt, Activity.event_point_id)
                   .where(Activity.event_id == bindparam("event_id"), Activity.id > bindparam("after_id"))
                   .order_by(Activity.id))


def activity_since(event_id: int, after_id: int) -> list[tuple[int, str, datetime, int | None]]:
    """The event's activity rows numbered above `after_id`, oldest first: (id, kind, created_dt, point id).

    The wall sender's incremental feed read (a range of the primary key, no join: the sender knows
    every point's name and group; the statement is built once).
    """
    return [tuple(row) for row in db.session.connection().execute(
        _ACTIVITY_SINCE, {"event_id": event_id, "after_id": after_id})]


def activity_newest(event_id: int, limit: int = FEED_LENGTH) -> list[tuple[int, str, datetime, int | None]]:
    """The event's newest activity rows, newest first, shaped as `activity_since`'s (where a new
    sender's feed starts: the viewers drop the ones they already show)."""
    return [tuple(row) for row in db.session.execute(
        select(Activity.id, Activity.kind, Activity.created_dt, Activity.event_point_id)
        .where(Activity.event_id == event_id)
        .order_by(Activity.created_dt.desc(), Activity.id.desc()).limit(limit)
    )]
