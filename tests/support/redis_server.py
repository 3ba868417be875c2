"""A private redis-server per test: its keys, its numbers and its Socket.IO channel are the test's own
(two suites on one machine never meet), and it can be killed and restarted at will."""
from __future__ import annotations

import shutil

import redis

from tests.support.processes import Proc, ProcSet, free_port, wait_until
from tests.support.services import service_missing
from tests.support.stack import base_env


class RedisServer:
    """A private redis-server on a free port (no persistence), to stop and restart at will."""

    def __init__(self, procs: ProcSet) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            service_missing("redis-server", "not on PATH")
        self.port = free_port()
        self.procs = procs
        self.proc: Proc | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--daemonize", "no"]
        self.proc = self.procs.start(f"redis-{self.port}", cmd, base_env())

        def ping() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
            except redis.RedisError:
                return False

        wait_until(ping, 20, "redis-server to answer", check=self.proc.check_alive)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.expected_dead = True  # type: ignore[attr-defined]
        self.proc.kill()


def private_redis(procs: ProcSet) -> str:
    """Start a private redis-server stopped with `procs`; its URL."""
    server = RedisServer(procs)
    server.start()
    return server.url
