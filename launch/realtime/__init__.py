"""Real-time: the one publisher of wall updates, and the thin Socket.IO handlers."""
from __future__ import annotations

from flask import Flask


def init_realtime(app: Flask) -> None:
    """Bind the Socket.IO handlers to this app's server (created by `socketio.init_app`)."""
    from launch.realtime import handlers

    handlers.register()
