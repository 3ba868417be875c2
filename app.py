"""Entry point: `python app.py` serves the embedded default; gunicorn imports `app`.

HTTPS on a LAN (phone cameras open only on HTTPS pages): set SSL_CERT and SSL_KEY to a
certificate's files, HOST=0.0.0.0 and PUBLIC_BASE_URL=https://<this machine's LAN address>:<PORT>.
Served beyond loopback, it refuses the development key published in the repository and gives the
demo accounts fresh random passwords (printed once) if they still have their published ones.

Served on gevent, the production worker model (one greenlet per socket and request; measured in
the README's benchmark: the threaded Werkzeug server broke at 50 check-ins/s on HTTP p99 with 300
wall sockets, the gevent worker held 100/s). EMBEDDED_WORKER=threading serves it on Werkzeug's
threads instead (e.g. to use a debugger).
"""
from __future__ import annotations

import os

if __name__ == "__main__" and os.environ.get("EMBEDDED_WORKER", "gevent") == "gevent":
    # Before anything imports socket, ssl or threading; Socket.IO then runs in gevent mode by itself
    # (config.socketio_async_mode) and socketio.run serves with gevent's WSGI server.
    from gevent import monkey

    monkey.patch_all()

import sys  # noqa: E402

from config import ConfigError, check_serving, is_loopback, socketio_async_mode  # noqa: E402
from launch import create_app  # noqa: E402
from launch.extensions import socketio  # noqa: E402

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
    if socketio_async_mode() == "gevent":
        from launch.embedded import NoDelayHandler

        tls = {"certfile": cert, "keyfile": key} if cert and key else {}
        tls["handler_class"] = NoDelayHandler
    else:
        tls = {"ssl_context": (cert, key) if cert and key else None, "allow_unsafe_werkzeug": True}
    socketio.run(app, host=host, port=int(os.environ.get("PORT", "5000")), use_reloader=False, **tls)


if __name__ == "__main__":
    main()
