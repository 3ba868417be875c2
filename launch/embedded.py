"""What the embedded server (`python app.py`) needs beyond `socketio.run`: gevent's handler with
Nagle's algorithm off.

Why: gevent's WSGI server leaves Nagle's algorithm on, so a response written in two parts waited
for the client's delayed acknowledgement: every keep-alive request (a scanner posting check-ins)
took 40 ms more (measured: p50 46 ms against 4 ms with it off; Werkzeug and gunicorn turn it off).
Imported only where gevent is the server (it imports gevent).
"""
from __future__ import annotations

import socket
from typing import Any

from gevent import pywsgi


class NoDelayHandler(pywsgi.WSGIHandler):
    """pywsgi's handler, TCP_NODELAY set on the connection before anything is read or written."""

    def __init__(self, sock: Any, address: Any, server: Any, rfile: Any = None) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().__init__(sock, address, server, rfile)
