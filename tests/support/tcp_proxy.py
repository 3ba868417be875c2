"""A TCP proxy on loopback: the load balancer in front of the web processes and the fault injector
in front of PostgreSQL."""
from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

from tests.support.processes import free_port


class TcpProxy:
    """Forwards loopback TCP connections to a backend (round robin, skipping those that refuse, like nginx's
    upstream; or `failover`: the first that accepts). `down()` refuses new connections and drops the open
    ones; `up()` listens again on the same port."""

    def __init__(self, backends: list[tuple[str, int]], port: int | None = None, *, failover: bool = False) -> None:
        self.backends = list(backends)
        self.failover = failover  # always the first backend that accepts (else: round robin)
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._next = 0
        self.accepted = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        listener.listen(256)
        listener.settimeout(0.2)
        with self._lock:
            self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Close the listener (new connections are refused) and every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, set()
        if listener is not None:
            listener.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            with contextlib.suppress(OSError):
                conn.close()

    close = down

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _connect_backend(self) -> socket.socket | None:
        with self._lock:
            start = 0 if self.failover else self._next
            self._next = (self._next + 1) % len(self.backends)
        for i in range(len(self.backends)):
            host, port = self.backends[(start + i) % len(self.backends)]
            try:
                return socket.create_connection((host, port), timeout=2)
            except OSError:
                continue
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream = self._connect_backend()
        if upstream is None:
            client.close()
            return
        with self._lock:
            if self._listener is None:  # went down meanwhile
                client.close()
                upstream.close()
                return
            self._conns.update((client, upstream))
        try:
            upstream.settimeout(None)
            client.settimeout(None)
            pair = {client: upstream, upstream: client}
            while True:
                readable, _, _ = select.select(list(pair), [], [], 1.0)
                with self._lock:
                    if client not in self._conns:
                        return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._conns.discard(client)
                self._conns.discard(upstream)
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()
