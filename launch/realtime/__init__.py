"""Real-time: the one publisher of wall updates, and the thin Socket.IO handlers."""
from __future__ import annotations

from flask import Flask


def init_realtime(app: Flask) -> None:
    """Register the Socket.IO handlers (importing the module binds them to `socketio`)."""
    from launch.realtime import handlers  # noqa: F401
