"""Every real-time message leaves through here: the bound Socket.IO server (and its Redis queue), or,
in a process without one, a write-only client of the queue."""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app, has_app_context

from launch.extensions import socketio

log = logging.getLogger(__name__)

_external: dict[str, Any] = {}
_external_lock = threading.Lock()


def emit(event: str, payload: dict[str, Any], room: str) -> None:
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
