"""Entry point: `python app.py` serves the embedded default; gunicorn imports `app`."""
from __future__ import annotations

import os

from launch import create_app
from launch.extensions import socketio

app = create_app()

if __name__ == "__main__":
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        use_reloader=False,
        allow_unsafe_werkzeug=True,
    )
