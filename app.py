"""Entry point: `python app.py` serves the embedded default; gunicorn imports `app`.

HTTPS on a LAN (phone cameras open only on HTTPS pages): set SSL_CERT and SSL_KEY to a
certificate's files, HOST=0.0.0.0 and PUBLIC_BASE_URL=https://<this machine's LAN address>:<PORT>.
Served beyond loopback, it refuses the development key published in the repository and gives the
demo accounts fresh random passwords (printed once) if they still have their published ones.
"""
from __future__ import annotations

import os
import sys

from config import ConfigError, check_serving, is_loopback
from launch import create_app
from launch.extensions import socketio

app = create_app()


def main() -> None:
    """Serve the embedded default on HOST:PORT (127.0.0.1:5000)."""
    host = os.environ.get("HOST", "127.0.0.1")
    try:
        check_serving(host, app.config)
    except ConfigError as exc:
        sys.exit(f"error: {exc}")
    if not is_loopback(host):
        from launch.services.demo import print_accounts, secure_demo_accounts

        with app.app_context():
            print_accounts(secure_demo_accounts(), print)
    cert, key = os.environ.get("SSL_CERT"), os.environ.get("SSL_KEY")
    socketio.run(
        app,
        host=host,
        port=int(os.environ.get("PORT", "5000")),
        use_reloader=False,
        allow_unsafe_werkzeug=True,
        ssl_context=(cert, key) if cert and key else None,
    )


if __name__ == "__main__":
    main()
