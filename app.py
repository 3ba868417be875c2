"""Entry point: `python app.py` serves the embedded default; gunicorn imports `app`.

HTTPS on a LAN (phone cameras open only on HTTPS pages): set SSL_CERT and SSL_KEY to a
certificate's files, HOST=0.0.0.0 and PUBLIC_BASE_URL=https://<this machine's LAN address>:<PORT>.
"""
from __future__ import annotations

import os

from launch import create_app
from launch.extensions import socketio

app = create_app()

if __name__ == "__main__":
    cert, key = os.environ.get("SSL_CERT"), os.environ.get("SSL_KEY")
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        use_reloader=False,
        allow_unsafe_werkzeug=True,
        ssl_context=(cert, key) if cert and key else None,
    )
