"""Wall snapshots: the read model's full view of a room, stamped with the room's sequence number.

The number is read BEFORE the database, so every change whose delta carries a number up to `seq`
is already in the tiles; the client applies only deltas numbered above it. While the room's number
stands (nothing was sent since), a snapshot built less than WALL_SNAPSHOT_CACHE_SECONDS ago is
still the state at that number and is served again (a storm of resyncs costs one build).
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import current_app

from launch.realtime import sequence
from launch.services.wall import full_view, wall_room


def snapshot(event_id: int, district_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The whole wall (or one district's) with the room's current sequence number."""
    room = wall_room(event_id, district_id)
    max_age = float(current_app.config.get("WALL_SNAPSHOT_CACHE_SECONDS", 0) or 0) if now is None else 0.0
    seq = sequence.current(room)
    cache = current_app.extensions.setdefault("wall_snapshots", {})
    cached = cache.get(room)
    if max_age > 0 and cached is not None and cached[0] == seq and time.monotonic() - cached[1] < max_age:
        return dict(cached[2])  # nothing was sent since it was built: it is still the state at `seq`
    view = full_view(event_id, district_id, now)
    view["seq"] = seq
    if max_age > 0:
        cache[room] = (seq, time.monotonic(), view)
    return dict(view)
