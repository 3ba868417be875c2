"""Events follow the directory: a unit's new host, phone or expected attendance reaches the events
not yet over, and their open walls redraw the unit's points.

Names, codes and groups are frozen on the points by `launch.services.hierarchy` (events not started
yet follow an import; events under way keep what they were held with); the host's name and phone
are read from the unit, so the open walls only need to be told.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from launch.extensions import db
from launch.models import Event, EventPoint
from launch.signals import wall_change

#: An event in one of these states no longer follows the directory.
OVER_STATES = ("ended", "cancelled")


def open_points(unit_ids: Iterable[int | None]) -> list[EventPoint]:
    """The points these units hold in events not yet over (drafts, scheduled, testing, live)."""
    ids = [i for i in unit_ids if i is not None]
    if not ids:
        return []
    return list(db.session.scalars(select(EventPoint).join(Event, Event.id == EventPoint.event_id)
                                   .where(EventPoint.unit_id.in_(ids), Event.state.not_in(OVER_STATES))))


def follow_attendance(points: list[EventPoint], old: int | None, new: int | None) -> None:
    """A unit's new expected attendance, on its points that still had the old one (an event that set
    its own number for the point keeps it). The caller commits."""
    for point in points:
        if point.expected_attendance == (old or 0):
            point.expected_attendance = new or 0


def tell_walls(points: list[EventPoint]) -> None:
    """After the commit: the open walls of those events redraw the points (their tiles' fingerprint
    changed, so the walls take a fresh snapshot)."""
    for event_id, point_id in sorted({(p.event_id, p.id) for p in points}):
        wall_change(event_id, "directory", point_id=point_id)
