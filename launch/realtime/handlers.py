"""Socket.IO event handlers: authenticate, join rooms, send snapshots, take heartbeats.

Two kinds of connection, decided on connect:
* a signed-in user (the session cookie of the handshake): may `join` walls (operators and viewers any
  wall; a host the wall of a district they act for) and campaign rooms;
* a point's host page, `auth={"point": id, "token": presence token}` (or a signed-in host who may act
  for that point): sends `heartbeat`s.
Anyone else is refused. Each handler does its work in a fresh app context, so the signed-in user and
the database session are this connection's own (tests keep another app context pushed).

Client events: `join` {"event": id, "district": id?} or {"room": "campaign:<id>"} -> ack {"ok", ...}
and a `wall_snapshot`; `resync` (same data) -> a fresh `wall_snapshot`; `leave` {"room"}; `heartbeat`
-> ack {"ok", "interval"}. Server events: `wall_snapshot`, `wall_delta` (see publisher), `presence_ack`,
`campaign_update`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room

import launch.realtime.sessions as sessions
import launch.realtime.snapshots as snapshots
from launch.extensions import db, socketio
from launch.models import Campaign, Event, EventPoint, User
from launch.services import access, presence, wall
from launch.services.errors import DomainError

log = logging.getLogger(__name__)


@dataclass
class Client:
    """What a connection proved on connect."""

    kind: str  # "user" or "point"
    user_id: int | None = None
    #: The session generation the user had on connect: a sign-out replaces it, and the socket loses its rights.
    session_token: str | None = None
    is_reader: bool = False  # operator or viewer
    scope: set[int] | None = field(default=None)  # units a host acts for
    point_id: int | None = None
    event_id: int | None = None


_clients: dict[str, Client] = {}
_lock = threading.Lock()


@contextmanager
def _context() -> Iterator[None]:
    """A fresh app context for this connection's user and database session."""
    with current_app._get_current_object().app_context():
        yield


def _client() -> Client | None:
    with _lock:
        return _clients.get(request.sid)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _signed_in_client() -> Client | None:
    user = current_user
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    reader = access.can_read_all(user)
    return Client(kind="user", user_id=user.id, session_token=user.session_token, is_reader=reader,
                  scope=None if reader else (access.scoped_unit_ids(user) or set()))


def _user_of(client: Client) -> User | None:
    """The client's user if their session is still the one the socket was opened with, else None."""
    if client.user_id is None:
        return None
    user = db.session.get(User, client.user_id)
    if user is None or not user.is_active or user.session_token != client.session_token:
        return None
    return user


def _still_allowed(client: Client) -> bool:
    """False (and the socket is closed) when the user who opened it signed out or was disabled since."""
    if client.user_id is None or _user_of(client) is not None:
        return True
    socketio.server.disconnect(request.sid)
    return False


def _point_client(auth: dict[str, Any]) -> Client | None:
    point = presence.point_for_token(auth.get("token"), auth.get("point"))
    if point is None:
        point_id = _as_int(auth.get("point"))
        candidate = db.session.get(EventPoint, point_id) if point_id else None
        user = current_user
        if candidate is not None and getattr(user, "is_authenticated", False) and user.is_active \
                and access.can_act_for(user, candidate.unit_id):
            point = candidate
    if point is None:
        return None
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return Client(kind="point", point_id=point.id, event_id=point.event_id,
                  user_id=user.id if user is not None else None,
                  session_token=user.session_token if user is not None else None)


def _wall_target(client: Client, data: dict[str, Any]) -> tuple[int, int | None] | None:
    """(event id, group id) the client may watch, or None (a group: a district, a province at a national launch)."""
    if client.kind != "user":
        return None
    event_id = _as_int(data.get("event"))
    district_id = _as_int(data.get("district")) if data.get("district") not in (None, "") else None
    if event_id is None or db.session.get(Event, event_id) is None:
        return None
    if district_id is not None and not wall.is_group(event_id, district_id):
        return None
    if client.is_reader:
        return event_id, district_id
    if district_id is not None and client.scope is not None and district_id in client.scope:
        return event_id, district_id
    return None


def _join(client: Client, data: Any) -> dict[str, Any]:
    data = data if isinstance(data, dict) else {}
    room = data.get("room")
    if isinstance(room, str) and room.startswith("campaign:"):
        campaign_id = _as_int(room.split(":", 1)[1])
        campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
        user = _user_of(client) if client.kind == "user" else None
        if campaign is None or user is None or not _may_watch_campaign(campaign, user):
            return {"ok": False, "code": "forbidden"}
        join_room(f"campaign:{campaign_id}")
        return {"ok": True, "room": f"campaign:{campaign_id}"}
    target = _wall_target(client, data)
    if target is None:
        return {"ok": False, "code": "forbidden"}
    event_id, district_id = target
    room = wall.wall_room(event_id, district_id)
    join_room(room)
    # To this socket only, which is on this process: not through the message queue to every other one.
    emit("wall_snapshot", snapshots.snapshot(event_id, district_id), ignore_queue=True)
    return {"ok": True, "room": room}


def _may_watch_campaign(campaign: Campaign, user: User) -> bool:
    """The dashboard's own rule: operators and viewers any campaign, hosts those their units report for."""
    from launch.services import campaigns

    if access.can_read_all(user):
        return True
    try:
        campaigns.ensure_can_view(campaign, user)
    except DomainError:
        return False
    return True


def on_connect(auth: Any = None) -> bool:
    """Accept a signed-in user or a point's host page; refuse anyone else."""
    auth = auth if isinstance(auth, dict) else {}
    with _context():
        client = _point_client(auth) if auth.get("point") not in (None, "") else _signed_in_client()
        if client is None:
            return False
        with _lock:
            _clients[request.sid] = client
        if client.user_id is not None:
            sessions.remember(client.user_id, request.sid)
        if client.kind == "point":
            presence.record_heartbeat(client.point_id)
            emit("presence_ack", {"ok": True, "point": client.point_id, "interval": presence.heartbeat_seconds()})
        elif auth.get("event") not in (None, "") and not _join(client, auth).get("ok"):
            with _lock:
                _clients.pop(request.sid, None)
            if client.user_id is not None:
                sessions.forget(client.user_id, request.sid)
            return False
    return True


def on_disconnect(reason: Any = None) -> None:
    """Forget the connection; a host page's silence is judged by the presence timeout."""
    with _lock:
        client = _clients.pop(request.sid, None)
    if client is None:
        return
    with _context():
        if client.user_id is not None:
            sessions.forget(client.user_id, request.sid)
        if client.kind == "point":
            presence.record_page_closed(client.point_id)


def on_join(data: Any = None) -> dict[str, Any]:
    """Join a wall (snapshot follows) or a campaign room."""
    client = _client()
    if client is None:
        return {"ok": False, "code": "forbidden"}
    with _context():
        if not _still_allowed(client):
            return {"ok": False, "code": "session_ended"}
        return _join(client, data)


def on_resync(data: Any = None) -> dict[str, Any]:
    """A client that saw a gap or reconnected: send a fresh snapshot."""
    return on_join(data)


def on_leave(data: Any = None) -> dict[str, Any]:
    """Leave a room (e.g. a wall switching district)."""
    room = data.get("room") if isinstance(data, dict) else None
    if isinstance(room, str) and room:
        leave_room(room)
    return {"ok": True}


def on_heartbeat(data: Any = None) -> dict[str, Any]:
    """A host page is still there."""
    client = _client()
    if client is None or client.kind != "point":
        return {"ok": False, "code": "forbidden"}
    with _context():
        if not _still_allowed(client):
            return {"ok": False, "code": "session_ended"}
        presence.record_heartbeat(client.point_id)
        return {"ok": True, "interval": presence.heartbeat_seconds()}


HANDLERS = {"connect": on_connect, "disconnect": on_disconnect, "join": on_join, "resync": on_resync,
            "leave": on_leave, "heartbeat": on_heartbeat}


def register() -> None:
    """Bind the handlers to the current Socket.IO server.

    Flask-SocketIO's decorators bind to the server that exists at import time only; each app
    (tests build many) gets a new server, so `init_realtime` calls this for every app.
    """
    for name, handler in HANDLERS.items():
        socketio.on_event(name, handler)
