"""The ONE place that emits real-time updates. Services never call it: they send the domain
signals of `launch.signals` after their commit, and `init_realtime` connects these to it.

Stable interface:
    announce(event_id, kind, event_point_id=None, data=None)  <- wall_changed: wall viewers of the event
    campaign_updated(campaign_id)                              <- campaign_changed: dashboards of the campaign
and, for tests and the shutdown path, flush().

The wall protocol (Socket.IO, default namespace; clients use transports=["websocket"]):

* Rooms: ``wall:<event_id>`` (the whole wall) and ``wall:<event_id>:d:<district_unit_id>`` (a
  district's wall). ``campaign:<id>`` for campaign dashboards.
* ``wall_snapshot`` (server -> client, on join and on ``resync``): the room's full state
  ``{type, room, event_id, district_id, seq, event, counters, tiles, attention, feed}``.
* ``wall_delta`` (server -> room): ``{room, seq, tiles, counters, feed[, event][, full][, removed]}``,
  what changed since the room's previous delta (`launch.realtime.deltas`): the changed tiles' changed
  fields, the changed counters as values (``full``: all of them), the feed rows not sent before
  (``{id, kind, at, point_id}``, newest first), the event's header only when the event changed.
  Counters are always the sum of the tiles the room's viewers hold (one model, one read per flush),
  so a viewer's counter check fails only when something was really lost. Never increments:
  applying a delta twice changes nothing. One serialised message per room per flush.
* ``wall_tick`` (server -> room, scaled out, every WALL_TICK_SECONDS): ``{room, seq}``, the room's
  current number, so that a viewer who missed the last delta (nothing after it to show a gap)
  notices and resyncs.
* Sequence numbers: one counter per room (``launch.realtime.sequence``: Redis ``INCR`` when
  REDIS_URL is set, so every process numbers the same room alike; in-process otherwise). A
  snapshot carries the room's number read BEFORE its database read. The client keeps the last
  number it applied, drops deltas numbered at or below it, applies the next one, and on a gap
  (a lost message, a reconnect, two processes' deltas crossing in Redis) waits briefly for the
  missing number and otherwise asks ``resync`` for a fresh snapshot.

Coalescing: ``announce`` only records the changed point id in a per-app buffer (one set per
event). One background task per process, started with the first change and running for good,
flushes at most once per WALL_COALESCE_SECONDS: the first change after a quiet spell goes out
after a few milliseconds, the changes of a busy spell wait for the interval's end and go together.
Per flush and event: ONE read of the changed points' tiles, ONE of the new feed rows, and ONE delta
per touched room, whatever the number of check-ins or viewers in between.
WALL_COALESCE_SECONDS <= 0 (the testing config) flushes synchronously inside ``announce``;
WALL_AUTOFLUSH=False leaves the buffer for an explicit ``flush()`` (deterministic tests).

Several processes (REDIS_URL set): ``announce`` records the change in Redis
(``launch.realtime.relay``) instead of this process's memory, and ONE process at a time, the
holder of a lease in Redis, drains it and sends the deltas. Redis pub/sub keeps one publisher's
order, so a room's deltas reach every viewer in number order and a gap means a real loss. Every
process that announced runs a sender loop that waits for the lease; when the holder dies, another
takes over within ``relay.LEASE_SECONDS`` and first sends the full state of every live event's
tiles, so whatever the dead sender had drained but not sent is not missed. Emits go through the
configured ``socketio`` and its Redis message queue to viewers on any web process
(`launch.realtime.emitter`). The scheduler process is the preferred sender (`start_sender`).
"""
from __future__ import annotations

import atexit
import logging
import threading
import time
from typing import Any

from flask import Flask, current_app, has_app_context

from launch.extensions import socketio
from launch.realtime.emitter import emit as _emit
from launch.realtime.relay import LEASE_SECONDS, WallRelay

log = logging.getLogger(__name__)

#: How long the first change after a quiet spell waits for companions before it is sent.
LEADING_DELAY_SECONDS = 0.02
#: The flusher's and the sender's clock and sleep (tests drive their cadence with fake ones).
_clock = time.monotonic
_sleep = time.sleep



class _Buffer:
    """Changed point ids per event, waiting for the next flush (None = the event itself changed)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: Held while a flush builds and sends, so two threads never interleave deltas or the model.
        self.send_lock = threading.Lock()
        self.pending: dict[int, set[int | None]] = {}
        self.flusher_alive = False
        self.wake = threading.Event()


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
    interval = float(app.config.get("WALL_COALESCE_SECONDS", 0.2) or 0)
    relay = _relay(app)
    if relay is not None:
        try:
            relay.add(event_id, event_point_id)
        except Exception:  # Redis away: no viewer can be reached either; walls resync when it is back
            log.warning("announce(%s, %s): Redis unavailable, change not queued", event_id, kind, exc_info=True)
            return
        if interval <= 0:
            flush(app)
        elif app.config.get("WALL_AUTOFLUSH", True):
            _ensure_sender(app, relay, interval)
        return
    state = _buffer(app)
    with state.lock:
        state.pending.setdefault(int(event_id), set()).add(event_point_id)
    state.wake.set()
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
    """Send one delta per touched room for everything announced since the last flush; returns how many.

    Scaled out, only the lease holder sends: a process that cannot take the lease sends nothing
    (the holder will), and one that takes it just for this flush gives it back afterwards.
    """
    app = app or current_app._get_current_object()
    relay = _relay(app)
    if relay is not None:
        holding, acquired = relay.hold_lease()
        if not holding:
            return 0
        try:
            with relay.send_lock:  # this process's sender loop may be sending too: one at a time
                sent = _take_over(app, relay) if acquired else 0
                sent += _send(app, relay.drain())
                relay.sent()
            return sent
        finally:
            if acquired and not relay.candidate_alive:
                relay.release_lease()
    state = _buffer(app)
    with state.send_lock:
        with state.lock:
            work, state.pending = state.pending, {}
        return _send(app, work)


def _send(app: Flask, work: dict[int, set[int | None]]) -> int:
    sent = 0
    for event_id, point_ids in work.items():
        try:
            sent += _flush_event(app, event_id, point_ids)
        except Exception:  # one event's failure must not stop the others; the next change resends
            log.exception("wall flush failed for event %s", event_id)
    return sent


def _flush_event(app: Flask, event_id: int, point_ids: set[int | None]) -> int:
    """Build the event's deltas from the sender's model, number and send them (caller holds the send lock).

    A delta that could not be sent leaves its viewers behind the model: the model is dropped, so
    the next flush starts from a fresh read and sends whole tiles and full counters.
    """
    import launch.realtime.deltas as wall_deltas
    import launch.realtime.sequence as sequence
    from launch.extensions import db

    with app.app_context():
        try:
            deltas = wall_deltas.build(app, event_id, point_ids)
            for delta in deltas:
                delta["seq"] = sequence.next_seq(delta["room"])
                _emit("wall_delta", delta, delta["room"])
        except Exception:
            wall_deltas.models(app).reset(event_id)
            raise
        finally:
            db.session.remove()
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
            threading.Thread(target=_flusher_loop, args=(app, state, interval), daemon=True,
                             name="wall-flusher").start()
    except Exception:
        with state.lock:
            state.flusher_alive = False
        raise


def _flusher_loop(app: Flask, state: _Buffer, interval: float) -> None:
    """For the app's life: wait for a change, flush, and never flush twice within `interval`.

    Leading edge: the first change after a quiet spell goes out after a few milliseconds (which
    gather simultaneous arrivals); the changes that follow within the interval wait for its end
    and go out together, so a busy wall gets one delta per room per interval, not one per change.
    It never exits when idle: a loop that stopped and restarted on the next change made every
    change of a slow trickle its own delta.
    """
    last = -interval
    while True:
        try:
            state.wake.wait()
            state.wake.clear()
            _sleep(max(min(interval, LEADING_DELAY_SECONDS), last + interval - _clock()))
            last = _clock()
            flush(app)
        except BaseException as exc:  # an error is logged and the loop goes on; only an exit ends it
            if not isinstance(exc, Exception):
                with state.lock:
                    state.flusher_alive = False
                raise
            log.exception("wall flush failed; the next change retries")


def _relay(app: Flask) -> WallRelay | None:
    """This app's shared buffer in Redis, or None for the embedded default (no REDIS_URL)."""
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    relay = app.extensions.get("wall_relay")
    if relay is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        relay = app.extensions.setdefault("wall_relay", WallRelay(client, app.config.get("WALL_SEQ_PREFIX", "launch")))
    return relay


def _take_over(app: Flask, relay: WallRelay) -> int:
    """A new lease holder's first act: if the previous one died between draining changes and
    sending them, send every tile of every event under way (deltas carry full tile state, not
    increments, so this repairs every wall without a resync)."""
    import launch.realtime.deltas as wall_deltas

    wall_deltas.models(app).reset()  # another sender may have sent since this process last did
    if not relay.predecessor_died_sending():
        return 0
    log.warning("wall sender: the previous sender died mid-send; resending every live wall")
    sent = _send_full_state(app)
    relay.forget_inflight()
    return sent


def _send_full_state(app: Flask) -> int:
    """Every tile of every event under way, as deltas (fresh models: whole tiles, full counters)."""
    from sqlalchemy import select

    from launch.extensions import db
    from launch.models import Event, EventPoint
    from launch.services.wall import PRESENCE_STATES

    with app.app_context():
        rows = db.session.execute(
            select(EventPoint.event_id, EventPoint.id).join(Event, Event.id == EventPoint.event_id)
            .where(Event.state.in_(PRESENCE_STATES))
        ).all()
        db.session.remove()
    work: dict[int, set[int | None]] = {}
    for event_id, point_id in rows:
        work.setdefault(event_id, {None}).add(point_id)
    return _send(app, work)


def start_sender(app: Flask) -> bool:
    """Make this process the preferred wall sender, from now on (the scheduler process, at its start).

    Why: the sender builds every delta; in a gevent web process that work runs between the
    requests and sockets it serves. A web process that holds the lease gives it up (after a
    complete send) while a preferred candidate is alive, and takes it only when nobody holds it,
    so no change ever waits for the scheduler. False without REDIS_URL (one process sends anyway).
    """
    relay = _relay(app)
    if relay is None:
        return False
    relay.preferred = True
    _ensure_sender(app, relay, float(app.config.get("WALL_COALESCE_SECONDS", 0.2) or 0) or 0.2)
    return True


def _ensure_sender(app: Flask, relay: WallRelay, interval: float) -> None:
    """Start this process's sender loop (once): it waits for the lease, then sends while holding it."""
    with relay.lock:
        if relay.candidate_alive:
            return
        relay.candidate_alive = True
    atexit.register(_release_at_exit, relay)
    if socketio.server is not None:
        socketio.start_background_task(_sender_loop, app, relay, interval)
    else:
        threading.Thread(target=_sender_loop, args=(app, relay, interval), daemon=True,
                         name="wall-sender").start()


def _release_at_exit(relay: WallRelay) -> None:
    try:
        relay.release_lease()
    except Exception:  # Redis away: the lease expires by itself
        log.debug("lease not released at exit", exc_info=True)


def _sender_loop(app: Flask, relay: WallRelay, interval: float) -> None:
    """Hold or wait for the lease; while holding it, send what is pending at most once per `interval`.

    Same cadence as the embedded flusher: the first change after a quiet spell goes out after a
    few milliseconds, a burst is sent every `interval`. Redis errors pause it, never end it.
    """
    tick_every = float(app.config.get("WALL_TICK_SECONDS", 5) or 0)
    last_tick = 0.0
    while True:
        try:
            if relay.preferred:
                relay.prefer()
            holding, acquired = relay.hold_lease()
            if not holding:
                _sleep(LEASE_SECONDS / 4)
                continue
            if not relay.preferred and relay.preferred_elsewhere():
                with relay.send_lock:  # hand over between two complete sends: nothing is in flight
                    relay.release_lease()
                log.info("wall sender: handing the lease to the preferred sender")
                _sleep(LEASE_SECONDS / 4)
                continue
            if acquired:
                log.info("wall sender: this process holds the lease")
                with relay.send_lock:
                    _take_over(app, relay)
            if tick_every > 0 and time.monotonic() - last_tick >= tick_every:
                last_tick = time.monotonic()
                tick(app)
            if not relay.wait(1.0):
                continue
            _sleep(min(interval, LEADING_DELAY_SECONDS))
            started = time.monotonic()
            with relay.send_lock:
                _send(app, relay.drain())
                relay.sent()
            _sleep(max(0.0, interval - (time.monotonic() - started)))
        except Exception:
            log.warning("wall sender: Redis or database unavailable, retrying", exc_info=True)
            _sleep(1.0)


def tick(app: Flask | None = None) -> int:
    """Tell every live wall room its current number (``wall_tick``); returns the rooms told.

    A lost LAST delta leaves no gap for a viewer to notice (a Redis restart, a web process dying
    with its listener's messages): the tick's number, above the viewer's, shows it, and the viewer
    resyncs. Sent by the lease holder every WALL_TICK_SECONDS.
    """
    import launch.realtime.sequence as sequence
    from launch.extensions import db
    from launch.services.wall import live_rooms

    app = app or current_app._get_current_object()
    with app.app_context():
        rooms = live_rooms()
        for room in rooms:
            _emit("wall_tick", {"room": room, "seq": sequence.current(room)}, room)
        db.session.remove()
    return len(rooms)


def campaign_updated(campaign_id: int) -> None:
    """Tell dashboards of `campaign_id` that its reports changed (call after the commit)."""
    try:
        _emit("campaign_update", {"campaign_id": int(campaign_id)}, f"campaign:{int(campaign_id)}")
    except Exception:  # a dashboard refresh is never worth failing the caller's request
        log.exception("campaign_updated(%s) failed", campaign_id)


def participants_changed(event_id: int, items: list[dict[str, Any]]) -> None:
    """Tell the event's whole-province wall which meeting participants wait for an operator to assign
    them to a point (call after the commit). Not a numbered delta: the list is sent whole each time."""
    try:
        _emit("meeting_participants", {"event_id": int(event_id), "items": items}, f"wall:{int(event_id)}")
    except Exception:  # a list refresh is never worth failing Zoom's webhook
        log.exception("participants_changed(%s) failed", event_id)
