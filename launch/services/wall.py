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
import zlib
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, func, select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, Event, EventPoint, PointProblem, Unit
from launch.services import roster, wall_groups
from launch.services.events.queries import get_event
from launch.services.hierarchy import HOST_GROUP, Node, point_group_rows
from launch.services.text import split_division
from launch.services.wall_counts import counters as counters
from launch.services.wall_counts import needs_attention as needs_attention
from launch.services.wall_groups import event_groups as event_groups
from launch.services.wall_groups import is_group as is_group
from launch.services.wall_groups import is_national as is_national

#: Every tile status, in priority order (the first that applies wins).
STATUSES = ("problem", "signal_lost", "live", "checked_in", "absent", "tested", "invited")
#: Event states during which a silent host page means "signal lost".
PRESENCE_STATES = ("scheduled", "testing", "live")
#: Activity kinds of the host page's presence.
PRESENCE_KINDS = ("presence_connected", "presence_lost", "presence_back", "presence_closed")
FEED_LENGTH = 30


def presence_timeout() -> timedelta:
    """How long a host page may be silent before its point shows "signal lost"."""
    return timedelta(seconds=float(current_app.config.get("PRESENCE_TIMEOUT_SECONDS", 45)))


def wall_room(event_id: int, district_id: int | None = None) -> str:
    """The Socket.IO room (and sequence key) of an event's wall, or of one group's wall.

    A group (`district_id` in rooms, URLs and tiles, kept for the clients) is what the map puts
    between the event's root and its points: a district on the 2023 map, a province at a national
    launch, the province itself for a two-level province's communes (`launch.services.hierarchy`).
    """
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


@functools.cache
def _tiles_query(some_points: bool, some_groups: bool) -> Select:
    """Every point of an event (bind ``event_id``; ``point_ids`` if `some_points`, ``group_ids`` if
    `some_groups`) with its unit, attendee count and newest open problem. Built once per shape: the
    wall sender runs it every flush."""
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
        select(EventPoint, Unit, attendees, PointProblem)
        .join(Unit, EventPoint.unit_id == Unit.id)
        .outerjoin(PointProblem, PointProblem.id == open_problem)
        .where(EventPoint.event_id == bindparam("event_id"))
    )
    if some_points:
        stmt = stmt.where(EventPoint.id.in_(bindparam("point_ids", expanding=True)))
    if some_groups:
        stmt = stmt.where(EventPoint.group_id.in_(bindparam("group_ids", expanding=True)))
    return stmt


def _frozen_group(point: EventPoint) -> Node | None:
    """The group frozen on the point (None for a point written before snapshots and never frozen)."""
    if point.group_id is None:
        return None
    return Node(point.group_id, point.group_code or "", point.group_name or "", point.group_level or "")


def _tile(point: EventPoint, unit: Unit, group: Node, n_attendees: int | None, problem: PointProblem | None, *,
          now: datetime, timeout: timedelta, presence_applies: bool, on_roster: int | None) -> dict[str, Any]:
    """One point's tile (see the module docstring), with the unit and group the event was held with;
    `on_roster` is how many people of the roster the point expects."""
    code = point.unit_code or unit.code
    seen, closed = point.last_seen_dt, point.page_closed_dt
    page_live = bool(seen and now - seen <= timeout and closed is None)
    name = point.unit_name or unit.name
    mark, short_name = split_division(name, unit.division_type)
    tile = {
        "id": point.id,
        "unit_id": unit.id,
        "code": code,
        "name": name,
        # The projector shows the type prefix ("Xã", "Phường") as a small marker before the short name.
        "short_name": short_name,
        "division_type": unit.division_type,
        "division_mark": mark,
        "level": point.unit_level or unit.level,
        "is_host": bool(point.is_host),
        "district_id": group.id,
        "district_name": group.name,
        "group_level": group.level,
        "order": [0 if point.is_host else 1, group.code, 0 if unit.id == group.id else 1, code],
        "checked_in": point.checked_in_dt is not None,
        "checked_in_at": iso(point.checked_in_dt),
        "checkin_method": point.checkin_method,
        "tested": point.connection_tested_dt is not None,
        "absent": point.absent_dt is not None and point.checked_in_dt is None,
        "headcount": point.headcount,
        "expected": expected_at(point, on_roster),
        "attendees": int(n_attendees or 0),
        "in_call": bool(point.in_call),
        "call_joined_at": iso(point.call_joined_dt),
        "page_live": page_live,
        "signal_lost": bool(presence_applies and seen and not page_live and closed is None),
        "last_seen_at": iso(seen),
        "page_closed_at": iso(closed),
        "problem": (
            {"id": problem.id, "kind": problem.kind, "text": problem.text or "", "at": iso(problem.reported_dt)}
            if problem else None
        ),
        "host_name": unit.host_name or "",
        "host_phone": unit.host_phone or "",
    }
    tile["status"] = tile_status(tile)
    tile["facts"] = facts_mark(tile)
    return tile


def facts_mark(tile: dict[str, Any]) -> str:
    """A short fingerprint of a tile's static fields, carried by deltas too: a wall that sees it change
    (the directory edited a name, host or phone during the event) takes a fresh snapshot."""
    text = "\x1f".join(str(tile.get(k)) for k in sorted(STATIC_TILE_KEYS))
    return format(zlib.crc32(text.encode("utf-8")), "08x")


def expected_at(point: EventPoint, on_roster: int | None) -> int | None:
    """Whom a point expects: its people on the roster when there are any, else the attendance set for
    it, else None (unknown: pages show "—", never 0 and never "x/0")."""
    return on_roster or point.expected_attendance or None


def point_units(event_id: int) -> dict[int, int]:
    """{unit id: point id} of the event's points (read-only: shared).

    Kept per app while the event's points stand, checked by their number and newest id (points are
    added and removed, never moved to another unit): every incremental wall read needs the whole
    map to place the roster's people, and a national launch's 3,356 rows read per flush were a fifth
    of the embedded server's CPU.
    """
    version = tuple(db.session.execute(
        select(func.count(EventPoint.id), func.max(EventPoint.id)).where(EventPoint.event_id == event_id)).one())
    cache = current_app.extensions.setdefault("wall_point_units", {})
    kept = cache.get(event_id)
    if kept is not None and kept[0] == version:
        return kept[1]
    units = dict(db.session.execute(
        select(EventPoint.unit_id, EventPoint.id).where(EventPoint.event_id == event_id)).all())
    cache[event_id] = (version, units)
    return units


def load_tiles(event: Event, point_ids: set[int] | None = None, now: datetime | None = None, *,
               group_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Tiles of the event's points (all, or `point_ids`) in wall order, read in one query.

    Names, codes, levels and groups are those the event was held with (frozen on its points), so
    an ended event's wall and report never change with the directory.
    """
    now = now or utcnow()
    params: dict[str, Any] = {"event_id": event.id}
    if point_ids is not None:
        if not point_ids:
            return []
        params["point_ids"] = sorted(point_ids)
    if group_ids is not None:
        params["group_ids"] = sorted(group_ids) or [-1]
    presence_applies, timeout = event.state in PRESENCE_STATES, presence_timeout()
    rows = db.session.execute(_tiles_query(point_ids is not None, group_ids is not None), params).all()
    units = {row[0].unit_id: row[0].id for row in rows} if point_ids is None else None
    on_roster = roster.expected_by_point(event.id, units or point_units(event.id))
    tiles = []
    unfrozen: dict[int, Node] | None = None
    for point, unit, n_attendees, problem in rows:
        group = _frozen_group(point)
        if group is None:  # the live map, read once for all such points
            unfrozen = unfrozen if unfrozen is not None else point_group_rows(event.id)
            group = unfrozen[point.id]
        tiles.append(_tile(point, unit, group, n_attendees, problem, now=now, timeout=timeout,
                           presence_applies=presence_applies, on_roster=on_roster.get(point.id)))
    tiles.sort(key=lambda t: t["order"])
    return tiles


def in_district(tiles: list[dict[str, Any]], district_id: int | None) -> list[dict[str, Any]]:
    """The tiles a wall of `district_id` shows (all when None)."""
    if district_id is None:
        return tiles
    return [t for t in tiles if t["district_id"] == district_id]


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
    if district_id is None and wall_groups.is_national(event.id):
        view = group_view(event, now)
    else:  # a group's wall reads its own points only
        tiles = load_tiles(event, now=now, group_ids={district_id} if district_id is not None else None)
        view = build_view(event, tiles, district_id, now)
        view["attention"] = needs_attention(view["tiles"])
    view["type"] = "snapshot"
    return view


def group_view(event: Event, now: datetime) -> dict[str, Any]:
    """The whole wall of a national launch (`view` "groups"): a tile per province, the IOC's own
    tile, national counters, the first points of the national attention list and its length, the
    feed; about 35 tiles however many points (see `launch.services.wall_groups`)."""
    parts = wall_groups.group_view_parts(event.id, now, presence_timeout(), event.state in PRESENCE_STATES)
    host_id = wall_groups.host_point_id(event.id)
    return {
        "event_id": event.id, "district_id": None, "room": wall_room(event.id), "view": "groups",
        "event": event_info(event, now), "counters": parts["counters"], "groups": parts["groups"],
        "tiles": [_public(t) for t in load_tiles(event, {host_id}, now=now)] if host_id else [],
        "feed": recent_activity(event.id), "attention": wall_groups.attention_entries(parts["attention_ids"]),
        "attention_total": parts["attention_total"],
    }


def live_rooms() -> list[str]:
    """The wall rooms of every event under way (scheduled, testing, live): the whole wall and each group's."""
    rows = db.session.execute(
        select(EventPoint.event_id, EventPoint.group_id).join(Event, Event.id == EventPoint.event_id)
        .where(Event.state.in_(PRESENCE_STATES)).distinct()
    ).all()
    rooms: set[str] = set()
    for event_id, group_id in rows:
        rooms.add(wall_room(event_id))
        if group_id is not None and group_id != HOST_GROUP:
            rooms.add(wall_room(event_id, group_id))
    return sorted(rooms)


def district_ids(event: Event) -> list[int]:
    """The groups that have a wall for this event (other than the host's)."""
    return sorted({t["district_id"] for t in load_tiles(event) if t["district_id"] != HOST_GROUP})


#: Tile fields that do not change during an event: sent in snapshots only, so that a delta (sent
#: to every viewer several times a second) carries just what changes. A client that meets a tile
#: it does not know asks for a snapshot.
STATIC_TILE_KEYS = frozenset({"unit_id", "code", "name", "short_name", "division_type", "division_mark", "level",
                              "is_host", "district_id", "district_name", "group_level", "order", "expected",
                              "host_name", "host_phone"})


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

