"""Wall snapshots: the read model's full view of a room, stamped with the room's sequence number.

The number is read BEFORE the database, so every change whose delta carries a number up to `seq`
is already in the tiles; the client applies only deltas numbered above it. While the room's number
stands (nothing was sent since), a snapshot built less than WALL_SNAPSHOT_CACHE_SECONDS ago is
still the state at that number and is served again: a storm of resyncs costs one build and one
encoding per room and number (`wire.Encoded` carries its JSON text), not one per viewer.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime

from flask import current_app

import launch.realtime.sequence as sequence
from launch.realtime.wire import Encoded
from launch.services.wall import full_view, wall_room

_build_lock = threading.Lock()


def snapshot(event_id: int, district_id: int | None = None, now: datetime | None = None) -> Encoded:
    """The whole wall (or one district's) with the room's current sequence number, encoded once.

    Callers must not modify it: while cached, the same object goes to every viewer of the room.
    """
    room = wall_room(event_id, district_id)
    max_age = float(current_app.config.get("WALL_SNAPSHOT_CACHE_SECONDS", 0) or 0) if now is None else 0.0
    if max_age <= 0:
        return _build(event_id, district_id, room, now)
    cache = current_app.extensions.setdefault("wall_snapshots", {})
    seq = sequence.current(room)
    cached = cache.get(room)
    if cached is not None and cached[0] == seq and time.monotonic() - cached[1] < max_age:
        return cached[2]  # nothing was sent since it was built: it is still the state at `seq`
    with _build_lock:  # many viewers resyncing at once: one builds, the others take its result
        cached = cache.get(room)
        seq = sequence.current(room)
        if cached is not None and cached[0] == seq and time.monotonic() - cached[1] < max_age:
            return cached[2]
        built = time.monotonic()
        snap = _build(event_id, district_id, room, now, seq)
        cache[room] = (snap["seq"], built, snap)
    return snap


def _build(event_id: int, district_id: int | None, room: str, now: datetime | None,
           seq: int | None = None) -> Encoded:
    seq = sequence.current(room) if seq is None else seq
    view = full_view(event_id, district_id, now)
    view["seq"] = seq
    return Encoded(view)
