"""Processes of the real-process tests (scale-out, faults): free ports, bounded waiting, and process
groups that are always stopped.

Everything is on loopback, every wait is bounded, and every process started here is stopped by
`Proc.stop()` (its whole process group, SIGKILL at the end), which the tests call in `finally`/fixtures.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"


# --- ports and waiting -----------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_run(count: int) -> int:
    """A base port such that base .. base+count-1 are all free (honcho gives web.N the port base+N-1)."""
    for _ in range(200):
        base = free_port()
        if base + count < 65000 and all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no run of {count} free ports found")


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2,
               check: Callable[[], None] | None = None) -> Any:
    """Poll `predicate` until it returns something truthy; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while True:
        if check is not None:
            check()
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # kept for the message
            last_exc = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def wait_http(url: str, timeout: float = 60, check: Callable[[], None] | None = None) -> None:
    """Wait for `url` to answer 200."""
    def ok() -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ok, timeout, f"{url} to answer 200", interval=0.3, check=check)


def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --- processes -------------------------------------------------------------------------------------

_LOGS_OPENED: set[str] = set()


class Proc:
    """A subprocess in its own process group (session), logging to test-artifacts/<name>.log."""

    def __init__(self, name: str, cmd: list[str] | str, env: dict[str, str], *, shell: bool = False) -> None:
        self.name = name
        self.log_path = artifacts() / f"{name}.log"
        # a fresh log per test run; a process restarted under the same name appends
        self._log = open(self.log_path, "ab" if name in _LOGS_OPENED else "wb")  # noqa: SIM115  (closed in stop)
        _LOGS_OPENED.add(name)
        self._log.write(f"\n===== {time.strftime('%H:%M:%S')} start {cmd}\n".encode())
        self._log.flush()
        self.popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True, shell=shell)
        self.pid = self.popen.pid
        self.extra_groups: set[int] = set()  # sessions the process's children opened (honcho's)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.alive:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}; see {self.log_path}")

    def remember_children(self) -> None:
        """Note the process groups of every descendant (honcho starts each Procfile process in its own)."""
        import psutil

        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.pid).children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                    self.extra_groups.add(os.getpgid(child.pid))

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group now (a crash), and reap the leader."""
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, wait, then SIGKILL whatever is left (its own group and its children's)."""
        with contextlib.suppress(Exception):
            self.remember_children()
        if self.alive:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)
        for group in self.extra_groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)
        self._log.close()


class ProcSet:
    """Processes of one test, stopped together (last started first)."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def start(self, name: str, cmd: list[str] | str, env: dict[str, str], **kw: Any) -> Proc:
        proc = Proc(name, cmd, env, **kw)
        self.procs.append(proc)
        return proc

    def check(self) -> None:
        for proc in self.procs:
            if getattr(proc, "expected_dead", False):
                continue
            proc.check_alive()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.stop()
