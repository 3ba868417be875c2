"""The map's hierarchy as events see it: each point's group, and the snapshot an event keeps.

An event's *root* is its host unit (the IOC: a province's, or the national one). A point's *group*
is the unit just below the root on its way up (a district in 2023, a province at a national
launch); a commune directly under the root (a two-level province's launch) is grouped under the
root itself. The host point is apart (HOST_GROUP). Nothing here knows the word "district": it
follows whatever levels the map has.

When a point is written, its unit and group are frozen on the EventPoint (`freeze_point`, run for
every new point before it is flushed), so a later re-organisation of the directory never rewrites
an ended event's wall, report, exports or campaign history. Events that have not started yet
follow the directory (`refresh_open_events`, run after each import).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from launch.extensions import db
from launch.models import Event, EventPoint, Unit

HOST_GROUP = 0  # the group id of the event's host point (the IOC)
#: Event states whose points still follow the directory (re-frozen after an import).
OPEN_STATES = ("draft", "scheduled")
MAX_DEPTH = 8  # far more than the four levels; stops a corrupt cycle


@dataclass(frozen=True)
class Node:
    """What a point shows of a unit (its own or its group)."""

    id: int
    code: str
    name: str
    level: str


def _node(unit: Unit) -> Node:
    return Node(unit.id, unit.code, unit.name, unit.level)


def group_of(path: list[Node], root_id: int | None) -> Node:
    """The group of the first unit of `path` (the unit, then its ancestors), under `root_id`.

    The unit just below the root on the path; a leaf (commune) directly under the root is grouped
    under the root. Without the root on the path, the top of the path stands for it.
    """
    ids = [n.id for n in path]
    index = ids.index(root_id) if root_id in ids else len(path) - 1
    below, root = path[:index], path[index]
    if not below:
        return path[0]
    top = below[-1]
    if top is path[0] and top.level == "commune":
        return root
    return top


def path_of(unit: Unit) -> list[Node]:
    """The unit and its ancestors, read through the relationships (the identity map serves most)."""
    path = [_node(unit)]
    current = unit.parent
    while current is not None and len(path) < MAX_DEPTH:
        path.append(_node(current))
        current = current.parent
    return path


def freeze_point(point: EventPoint, root_id: int | None) -> None:
    """Write the unit and group the point is held with onto the point."""
    unit = point.unit if point.unit is not None else db.session.get(Unit, point.unit_id)
    if unit is None:
        return
    point.unit_code, point.unit_name = unit.code, unit.name
    point.unit_level, point.unit_division_type = unit.level, unit.division_type
    if point.is_host:
        point.group_id, point.group_code, point.group_name, point.group_level = HOST_GROUP, "", unit.name, unit.level
        return
    group = group_of(path_of(unit), root_id)
    point.group_id, point.group_code, point.group_name = group.id, group.code, group.name
    point.group_level = group.level


def _root_id(event: Event | None) -> int | None:
    if event is None:
        return None
    if event.host_unit is not None:
        return event.host_unit.id
    return event.host_unit_id


def freeze_points(event: Event, points: Iterable[EventPoint] | None = None) -> int:
    """Freeze (again) every point of `event` (or `points`); returns how many were written."""
    root = _root_id(event)
    n = 0
    for point in points if points is not None else event.points:
        freeze_point(point, root)
        n += 1
    return n


def refresh_open_events() -> int:
    """Re-freeze the points of events not started yet, after the directory changed.

    Events under way or over keep what they were held with.
    """
    n = 0
    for event in db.session.scalars(select(Event).where(Event.state.in_(OPEN_STATES))):
        n += freeze_points(event)
    return n


def _before_flush(session: Session, flush_context, instances) -> None:  # noqa: ANN001
    """Every new point is frozen before it is written; a changed host re-groups an open event."""
    for obj in list(session.new):
        if isinstance(obj, EventPoint) and obj.unit_code is None:
            event = obj.event if obj.event is not None else session.get(Event, obj.event_id)
            freeze_point(obj, _root_id(event))
    for obj in list(session.dirty):
        if isinstance(obj, Event) and obj.state in OPEN_STATES:
            history = inspect(obj).attrs.host_unit_id.history
            host_history = inspect(obj).attrs.host_unit.history
            if history.has_changes() or host_history.has_changes():
                freeze_points(obj)


def register() -> None:
    """Install the flush hook once per process (idempotent)."""
    if not sa_event.contains(Session, "before_flush", _before_flush):
        sa_event.listen(Session, "before_flush", _before_flush)


def point_group_rows(event_id: int) -> dict[int, Node]:
    """{point id: group} of an event's points as frozen (the live map for a point never frozen)."""
    out: dict[int, Node] = {}
    missing: list[int] = []
    rows = db.session.execute(
        select(EventPoint.id, EventPoint.group_id, EventPoint.group_code, EventPoint.group_name,
               EventPoint.group_level).where(EventPoint.event_id == event_id)
    )
    for point_id, group_id, code, name, level in rows:
        if group_id is None:
            missing.append(point_id)
        else:
            out[point_id] = Node(group_id, code or "", name or "", level or "")
    if missing:
        event = db.session.get(Event, event_id)
        root = _root_id(event)
        for point in db.session.scalars(select(EventPoint).where(EventPoint.id.in_(missing))):
            if point.is_host:
                out[point.id] = Node(HOST_GROUP, "", point.unit.name, point.unit.level)
            else:
                out[point.id] = group_of(path_of(point.unit), root)
    return out
