"""The ONE place that emits real-time updates. Services call it after their commit.

Stable interface:
    announce(event_id, kind, event_point_id=None, data=None)  -> wall viewers of the event
    campaign_updated(campaign_id)                              -> dashboards of the campaign
and, for tests and the shutdown path, flush().

The wall protocol (Socket.IO, default namespace; clients use transports=["websocket"]):

* Rooms: ``wall:<event_id>`` (the whole wall) and ``wall:<event_id>:d:<district_unit_id>`` (a
  district's wall). ``campaign:<id>`` for campaign dashboards.
* ``wall_snapshot`` (server -> client, on join and on ``resync``): the room's full state
  ``{type, room, event_id, district_id, seq, event, counters, tiles, attention, feed}``.
* ``wall_delta`` (server -> room): ``{type, room, event_id, district_id, seq, event, counters,
  tiles, feed, event_level}`` where ``tiles`` holds the FULL current state of the changed tiles only,
  read from the database when the delta is built, and ``counters``/``feed`` are the room's current
  values. Deltas never carry increments, so applying one twice, or applying one older than the
  snapshot, cannot make the wall drift for longer than the next delta.
* Sequence numbers: one counter per room (``launch.realtime.sequence``: Redis ``INCR`` when
  REDIS_URL is set, so every process numbers the same room alike; in-process otherwise). A
  snapshot carries the room's number read BEFORE its database read. The client keeps the last
  number it applied, drops deltas numbered at or below it, applies the next one, and on a gap
  (a lost message, a reconnect, two processes' deltas crossing in Redis) waits briefly for the
  missing number and otherwise asks ``resync`` for a fresh snapshot.

Coalescing: ``announce`` only records the changed point id in a per-app buffer (one set per
event). A background task flushes the buffer every WALL_COALESCE_SECONDS: per event, ONE read of
the tiles and ONE delta per touched room, whatever the number of check-ins or viewers in between.
WALL_COALESCE_SECONDS <= 0 (the testing config) flushes synchronously inside ``announce``;
WALL_AUTOFLUSH=False leaves the buffer for an explicit ``flush()`` (deterministic tests).

Several processes: each process coalesces what it announces and emits through the configured
``socketio``, whose Redis message queue (REDIS_URL) delivers to viewers connected to any web
process. The scheduler process has no web server but the same ``socketio`` bound with the queue,
so its emits go through Redis too; a process without a bound server falls back to a write-only
``SocketIO(message_queue=REDIS_URL)``.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app, has_app_context

from launch.extensions import socketio

log = logging.getLogger(__name__)

#: How long the first change after a quiet spell waits for companions before it is sent.
LEADING_DELAY_SECONDS = 0.02

_external: dict[str, Any] = {}
_external_lock = threading.Lock()


class _Buffer:
    """Changed point ids per event, waiting for the next flush (None = the event itself changed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[int, set[int | None]] = {}
        self.flusher_alive = False


def _buffer(app: Flask) -> _Buffer:
    state = app.extensions.get("wall_publisher")
    if state is None:
        state = app.extensions.setdefault("wall_publisher", _Buffer())
    return state


def announce(event_id: int, kind: str, event_point_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Tell wall viewers of `event_id` that something of `kind` changed (call after the commit).

    `kind` and `data` are informational (logging); the feed and tiles are read from the database.
    """
    if not has_app_context():
        log.warning("announce(%s, %s) outside an app context: dropped", event_id, kind)
        return
    app = current_app._get_current_object()
    state = _buffer(app)
    with state.lock:
        state.pending.setdefault(int(event_id), set()).add(event_point_id)
    interval = float(app.config.get("WALL_COALESCE_SECONDS", 0.2) or 0)
    if interval <= 0:
        flush(app)
    elif app.config.get("WALL_AUTOFLUSH", True):
        _ensure_flusher(app, state, interval)


def pending(app: Flask | None = None) -> dict[int, set[int | None]]:
    """A copy of what waits for the next flush (for tests and diagnostics)."""
    state = _buffer(app or current_app._get_current_object())
    with state.lock:
        return {k: set(v) for k, v in state.pending.items()}


def flush(app: Flask | None = None) -> int:
    """Send one delta per touched room for everything announced since the last flush; returns how many."""
    app = app or current_app._get_current_object()
    state = _buffer(app)
    with state.lock:
        work, state.pending = state.pending, {}
    sent = 0
    for event_id, point_ids in work.items():
        try:
            sent += _flush_event(app, event_id, point_ids)
        except Exception:  # one event's failure must not stop the others; the next change resends
            log.exception("wall flush failed for event %s", event_id)
    return sent


def _flush_event(app: Flask, event_id: int, point_ids: set[int | None]) -> int:
    from launch.realtime import sequence
    from launch.services.wall import build_deltas

    with app.app_context():
        deltas = build_deltas(event_id, point_ids)
        for delta in deltas:
            delta["seq"] = sequence.next_seq(delta["room"])
            _emit("wall_delta", delta, delta["room"])
    return len(deltas)


def _ensure_flusher(app: Flask, state: _Buffer, interval: float) -> None:
    with state.lock:
        if state.flusher_alive:
            return
        state.flusher_alive = True
    try:
        if socketio.server is not None:
            socketio.start_background_task(_flusher_loop, app, state, interval)
        else:
            threading.Thread(target=_flusher_loop, args=(app, state, interval), daemon=True).start()
    except Exception:
        with state.lock:
            state.flusher_alive = False
        raise


def _flusher_loop(app: Flask, state: _Buffer, interval: float) -> None:
    """Flush at most once per `interval` while there is something to send, then stop.

    Leading edge: the first change after a quiet spell goes out almost at once (after a few
    milliseconds that gather simultaneous arrivals); under a burst the flushes follow a fixed
    cadence measured from each flush's start, so a change waits at most one interval.
    """
    import time

    try:
        time.sleep(min(interval, LEADING_DELAY_SECONDS))
        while True:
            started = time.monotonic()
            flush(app)
            with state.lock:
                if not state.pending:
                    state.flusher_alive = False
                    return
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
    except BaseException:
        log.exception("wall flusher stopped")
        with state.lock:
            state.flusher_alive = False


def _emit(event: str, payload: dict[str, Any], room: str) -> None:
    """Emit to a room through the bound server (and its queue), or a write-only queue client."""
    if socketio.server is not None:
        socketio.emit(event, payload, to=room)
        return
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if not url:
        log.debug("no Socket.IO server and no REDIS_URL: %s to %s dropped", event, room)
        return
    with _external_lock:
        emitter = _external.get(url)
        if emitter is None:
            from flask_socketio import SocketIO

            emitter = _external[url] = SocketIO(message_queue=url)
    emitter.emit(event, payload, to=room)


def campaign_updated(campaign_id: int) -> None:
    """Tell dashboards of `campaign_id` that its reports changed (call after the commit)."""
    try:
        _emit("campaign_update", {"campaign_id": int(campaign_id)}, f"campaign:{int(campaign_id)}")
    except Exception:  # a dashboard refresh is never worth failing the caller's request
        log.exception("campaign_updated(%s) failed", campaign_id)
