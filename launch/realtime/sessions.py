"""Which Socket.IO connections belong to which signed-in user, so that ending a user's sessions
(sign-out, password change, disable) closes their open sockets too.

Each process knows its own connections; scaled out (REDIS_URL), each also lists them in a Redis set
per user, so the process that ends the sessions can ask Socket.IO to disconnect every one of them:
python-socketio's message queue hands a disconnect for a socket of another process to that process.
Handlers also re-check the user's session generation on every event, so a socket this missed (Redis
down) is refused at its next request anyway.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from launch.extensions import socketio

log = logging.getLogger(__name__)

#: A socket's entry outlives no connection by more than this (a process killed without cleaning up).
ENTRY_TTL_SECONDS = 24 * 3600


def _state(app: Flask) -> tuple[threading.Lock, dict[int, set[str]]]:
    return app.extensions.setdefault("user_sockets", (threading.Lock(), {}))


def _redis(app: Flask):  # noqa: ANN202
    from launch.realtime.sequence import _redis as shared_client

    with app.app_context():
        return shared_client()


def _key(app: Flask, user_id: int) -> str:
    return f"{app.config.get('WALL_SEQ_PREFIX', 'launch')}:sockets:user:{int(user_id)}"


def remember(user_id: int, sid: str) -> None:
    """Note that socket `sid` acts for `user_id` (on connect)."""
    app = current_app._get_current_object()
    lock, sockets = _state(app)
    with lock:
        sockets.setdefault(int(user_id), set()).add(sid)
    client = _redis(app)
    if client is not None:
        try:
            pipe = client.pipeline()
            pipe.sadd(_key(app, user_id), sid)
            pipe.expire(_key(app, user_id), ENTRY_TTL_SECONDS)
            pipe.execute()
        except Exception:  # noqa: BLE001  (Redis down: the per-event check still refuses it later)
            log.warning("could not list socket %s of user %s in Redis", sid, user_id)


def forget(user_id: int, sid: str) -> None:
    """Socket `sid` is gone (on disconnect)."""
    app = current_app._get_current_object()
    lock, sockets = _state(app)
    with lock:
        mine = sockets.get(int(user_id))
        if mine is not None:
            mine.discard(sid)
            if not mine:
                sockets.pop(int(user_id), None)
    client = _redis(app)
    if client is not None:
        try:
            client.srem(_key(app, user_id), sid)
        except Exception:  # noqa: BLE001
            log.warning("could not unlist socket %s of user %s in Redis", sid, user_id)


def user_sockets(user_id: int) -> set[str]:
    """Every known socket of `user_id`: this process's, and (scaled out) every other process's."""
    app = current_app._get_current_object()
    lock, sockets = _state(app)
    with lock:
        sids = set(sockets.get(int(user_id), ()))
    client = _redis(app)
    if client is not None:
        try:
            sids |= {s.decode() if isinstance(s, bytes) else str(s) for s in client.smembers(_key(app, user_id))}
        except Exception:  # noqa: BLE001
            log.warning("could not read the sockets of user %s from Redis", user_id)
    return sids


def close_user_sockets(user_id: int) -> int:
    """Disconnect every open socket of `user_id`, on any process; returns how many were asked to close."""
    sids = user_sockets(user_id)
    server = getattr(socketio, "server", None)
    if server is None:
        return 0
    for sid in sids:
        try:
            server.disconnect(sid)
        except Exception:  # noqa: BLE001  (already gone)
            log.debug("socket %s was already closed", sid)
    return len(sids)
