"""The embedded gevent server's connections go out without Nagle's delay (see launch/embedded.py)."""
from __future__ import annotations

import socket

from launch.embedded import NoDelayHandler


def test_every_connection_the_handler_takes_has_nagle_off():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    conn, address = listener.accept()
    try:
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # the default: on
        NoDelayHandler(conn, address, server=None)
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        for s in (client, conn, listener):
            s.close()
