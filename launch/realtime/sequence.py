"""Sequence numbers of the wall rooms, consistent across processes.

With REDIS_URL set (scaled out) each room's number is a Redis counter, shared by every web
process and the scheduler process; without it (the embedded default, tests) it is a counter in this
app's memory, which is the same thing when there is only one process.

Numbers never go backwards: a counter that is missing (a new room, or Redis restarted without
persistence) starts from the clock in milliseconds, so after a Redis restart clients see a jump
(a gap: they resync) rather than numbers they would drop as old.
"""
from __future__ import annotations

import threading

from flask import current_app

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def _key(room: str) -> str:
    return f"{current_app.config.get('WALL_SEQ_PREFIX', 'launch')}:seq:{room}"


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
            _clients[url] = client
        return client


def _local() -> tuple[threading.Lock, dict[str, int]]:
    state = current_app.extensions.setdefault("wall_sequences", (threading.Lock(), {}))
    return state


#: INCR, but a missing counter starts from the current time in milliseconds.
_NEXT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])
"""


def _clock_ms() -> int:
    import time

    return int(time.time() * 1000)


def next_seq(room: str) -> int:
    """Advance the room's number and return it (called once per delta sent)."""
    client = _redis()
    if client is not None:
        return int(client.eval(_NEXT_LUA, 1, _key(room), _clock_ms()))
    lock, values = _local()
    with lock:
        values[room] = values.get(room, 0) + 1
        return values[room]


def current(room: str) -> int:
    """The room's last number (0 before the first delta); a snapshot carries it."""
    client = _redis()
    if client is not None:
        value = client.get(_key(room))
        if value is None:
            # Seed it now, so the next delta continues from here instead of from 1.
            client.set(_key(room), _clock_ms(), nx=True)
            value = client.get(_key(room))
        return int(value or 0)
    lock, values = _local()
    with lock:
        return values.get(room, 0)
