"""Helpers for the real-process tests (scale-out, faults): ports, process groups, readiness, a TCP proxy,
the data of a live event, a sign-in through the real form, and a wall client that follows the protocol.

Everything is on loopback, every wait is bounded, and every process started here is stopped by
`Proc.stop()` (its whole process group, SIGKILL at the end), which the tests call in `finally`/fixtures.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
UA = "launch-fault-test"
PG_HOST, PG_PORT = "127.0.0.1", 5432


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
        except Exception as exc:  # noqa: BLE001  (kept for the message)
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


def procfile() -> dict[str, str]:
    """The Procfile's process types and commands."""
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, _, cmd = line.partition(":")
            out[name.strip()] = cmd.strip()
    return out


def base_env(**values: str) -> dict[str, str]:
    """The environment of an app process: ours, the venv first on PATH, no test database variable."""
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def production_env(db_url: str, redis_url: str, secret: str, **values: str) -> dict[str, str]:
    """LAUNCH_CONFIG=production as deployed, minus nginx (PROXY_FIX=0), with fast scheduler sweeps."""
    return base_env(**{"LAUNCH_CONFIG": "production", "SECRET_KEY": secret, "DATABASE_URL": db_url,
                       "REDIS_URL": redis_url, "PROXY_FIX": "0", "PUBLIC_BASE_URL": "http://127.0.0.1",
                       "SCHEDULER_SWEEP_SECONDS": "1", "WEB_CONNECTIONS": "200", **values})


def start_web(procs: ProcSet, name: str, port: int, env: dict[str, str]) -> Proc:
    """One `web:` process of the Procfile (its very command line, run by the shell as honcho does)."""
    return procs.start(name, "exec " + procfile()["web"], {**env, "PORT": str(port)}, shell=True)


def start_scheduler(procs: ProcSet, name: str, env: dict[str, str]) -> Proc:
    """The Procfile's `scheduler:` process."""
    return procs.start(name, "exec " + procfile()["scheduler"], env, shell=True)


def migrate(db_url: str) -> None:
    """`flask db upgrade`: the real migrations, in a subprocess."""
    done = subprocess.run([str(BIN / "flask"), "--app", "app.py", "db", "upgrade"], cwd=ROOT,
                          env=base_env(LAUNCH_CONFIG="development", DATABASE_URL=db_url.replace("+psycopg", ""),
                                       SCHEDULER_ENABLED="0"),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask db upgrade failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


# --- databases and redis ---------------------------------------------------------------------------

def fresh_pg_database(name: str) -> str:
    """An empty database `name` (created if missing, its schema dropped); its SQLAlchemy URL."""
    from sqlalchemy import create_engine, text

    from tests.conftest import ensure_pg_database, service_missing

    try:
        url = ensure_pg_database(name)
    except Exception as exc:  # noqa: BLE001
        service_missing("PostgreSQL", str(exc).splitlines()[0])
        raise
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def shared_redis(db_number: int) -> str:
    """redis://127.0.0.1:6379/<db_number>, flushed (skipped outside CI if Redis does not answer)."""
    import redis

    from tests.conftest import service_missing

    url = f"redis://127.0.0.1:6379/{db_number}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001
        service_missing("Redis", str(exc))
    return url


class RedisServer:
    """A private redis-server on a free port (no persistence), to stop and restart at will."""

    def __init__(self, procs: ProcSet) -> None:
        import shutil

        from tests.conftest import service_missing

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
        import redis

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


# --- data ------------------------------------------------------------------------------------------

def prepare(db_url: str, secret: str, *, attendees: int = 0, api_tokens: int = 1, start_in: timedelta | None = None,
            state: str = "live", test_window_minutes: int = 60, reminder_offsets: list[int] | None = None,
            host_codes: tuple[str, ...] = ()) -> dict[str, Any]:
    """A 187-point event (IOC + 186 points) in `state`, an operator with `api_tokens` tokens, a roster.

    `host_codes`: a host account per unit code (("districts",): one per district).
    Done in this process with the testing config (no Redis here), signing with the servers' `secret`.
    Returns ids, the operator's password, the tokens, site tokens and attendees as (id, point id).
    """
    from sqlalchemy import insert, select

    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import Attendee, Event, EventPoint, Unit
    from launch.services.api_tokens import create_api_token
    from launch.services.directory import import_bundled_directory
    from launch.services.tokens import site_token
    from launch.services.users import create_user

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=secret)
    password = secrets.token_hex(12)
    with app.app_context():
        import_bundled_directory()
        operator = create_user("ioc-op", password, "operator")
        if host_codes == ("districts",):
            host_codes = tuple(db.session.scalars(select(Unit.code).where(Unit.level == "district")
                                                  .order_by(Unit.code)))
        hosts = [create_user(f"host-{code}", secrets.token_hex(8), "host", unit_codes=[code]) for code in host_codes]
        now = utcnow()
        start = now + start_in if start_in is not None else now - timedelta(minutes=5)
        province = db.session.scalar(select(Unit).where(Unit.level == "province"))
        event = Event(title="Lễ phát động chuyển đổi số (fault test)", start_dt=start,
                      end_dt=start + timedelta(hours=3),
                      state=state, host_unit=province, test_window_minutes=test_window_minutes,
                      reminder_offsets=reminder_offsets or [])
        db.session.add(event)
        db.session.add(EventPoint(event=event, unit=province, is_host=True, expected_attendance=100))
        units = list(db.session.scalars(select(Unit).where(Unit.level != "province").order_by(Unit.code)))
        points = [EventPoint(event=event, unit=u, expected_attendance=50) for u in units]
        db.session.add_all(points)
        db.session.commit()
        tokens = [create_api_token(operator, f"scanner {i}")[1] for i in range(api_tokens)]
        rows = [{"event_id": event.id, "unit_id": units[i % len(units)].id, "full_name": f"Người tham dự {i}",
                 "search_name": f"nguoi tham du {i}", "badge_code": secrets.token_hex(8)} for i in range(attendees)]
        if rows:
            db.session.execute(insert(Attendee), rows)
            db.session.commit()
        point_by_unit = {p.unit_id: p.id for p in points}
        people = [(a.id, point_by_unit[a.unit_id]) for a in db.session.scalars(
            select(Attendee).where(Attendee.event_id == event.id).order_by(Attendee.id))]
        data = {"event_id": event.id, "password": password, "username": "ioc-op", "api_tokens": tokens,
                "point_ids": [p.id for p in points], "site_tokens": {p.id: site_token(p) for p in points},
                "attendees": people, "host_ids": [h.id for h in hosts],
                "unit_codes": {p.id: p.unit.code for p in points}}
        db.session.remove()
        db.engine.dispose()
    return data


def db_engine(db_url: str):  # noqa: ANN201
    from sqlalchemy import create_engine

    return create_engine(db_url, pool_pre_ping=True)


def db_scalar(db_url: str, sql: str, **params: Any) -> Any:
    from sqlalchemy import text

    engine = db_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def db_rows(db_url: str, sql: str, **params: Any) -> list[tuple]:
    from sqlalchemy import text

    engine = db_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def attendees_per_point(db_url: str, event_id: int) -> dict[int, int]:
    """The database's truth: attendee check-ins per event point."""
    return dict(db_rows(db_url, "SELECT event_point_id, COUNT(*) FROM attendee_checkins WHERE event_id = :e "
                                "GROUP BY event_point_id", e=event_id))


# --- HTTP ------------------------------------------------------------------------------------------

def login_cookie(url: str, username: str, password: str) -> str:
    """Sign in through the real form (CSRF included); the Cookie header (production cookies are Secure,
    so a client on plain http would not send them back by itself)."""
    http = requests.Session()
    http.headers["User-Agent"] = UA
    page = http.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    cookies = {c.name: c.value for c in http.cookies}
    resp = requests.post(url + "/login", data={"username": username, "password": password,
                                               "csrf_token": token.group(1) if token else ""},
                         headers={"User-Agent": UA, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
                         allow_redirects=False, timeout=10)
    assert resp.status_code == 302, f"sign-in failed: {resp.status_code} {resp.text[:300]}"
    for header in resp.raw.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    assert "session" in cookies, "no session cookie after sign-in"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def client_id() -> str:
    return uuid.uuid4().hex


def attendee_checkin(url: str, api_token: str, point_id: int, attendee_id: int, cid: str,
                     timeout: float = 10) -> requests.Response:
    """POST one attendee check-in through the JSON API with a Bearer token."""
    return requests.post(f"{url}/api/v1/points/{point_id}/attendee-checkins",
                         json={"attendee_id": attendee_id, "client_id": cid},
                         headers={"Authorization": f"Bearer {api_token}", "User-Agent": UA}, timeout=timeout)


def site_checkin(url: str, api_token: str, token: str, timeout: float = 10) -> requests.Response:
    return requests.post(f"{url}/api/v1/site-checkins", json={"token": token},
                         headers={"Authorization": f"Bearer {api_token}", "User-Agent": UA}, timeout=timeout)


# --- a TCP proxy (load balancer / fault injector) --------------------------------------------------

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


# --- a wall client ---------------------------------------------------------------------------------

class WallClient:
    """A wall viewer that follows the documented protocol (launch/realtime/publisher.py): a snapshot on
    (re)connect (auth={"event": id} joins), then numbered deltas; a delta at or below the last number is
    dropped, the next one applied, a gap waited for briefly and then resynchronised.

    Handlers of python-socketio's client may run in separate threads: everything is under one lock.
    """

    GAP_GRACE = 1.0

    def __init__(self, url: str, cookie: str, event_id: int, name: str = "wall") -> None:
        import socketio

        self.url, self.cookie, self.event_id, self.name = url, cookie, event_id, name
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.3, reconnection_delay_max=1.5,
                                   randomization_factor=0.2)
        self.lock = threading.RLock()
        self.seq: int | None = None
        self.room = f"wall:{event_id}"
        self.tiles: dict[int, dict[str, Any]] = {}
        self.event: dict[str, Any] | None = None
        self.counters: dict[str, Any] | None = None
        self.pending: dict[int, dict[str, Any]] = {}
        self.gap_timer: threading.Timer | None = None
        self.connects = self.disconnects = self.snapshots = self.deltas = self.resyncs = 0
        self.events_seen: list[tuple[str, Any]] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("wall_snapshot", self._on_snapshot)
        self.sio.on("wall_delta", self._on_delta)
        self.sio.on("wall_tick", self._on_tick)

    def connect(self, timeout: float = 15) -> None:
        self.sio.connect(self.url, headers={"Cookie": self.cookie, "User-Agent": UA}, transports=["websocket"],
                         auth={"event": self.event_id}, wait_timeout=timeout)
        wait_until(lambda: self.seq is not None, timeout, f"{self.name}'s first snapshot")

    def close(self) -> None:
        with self.lock:
            if self.gap_timer is not None:
                self.gap_timer.cancel()
        with contextlib.suppress(Exception):
            self.sio.disconnect()

    # -- protocol
    def _on_connect(self) -> None:
        # The join's snapshot comes with the handshake (and may be handled first: one thread per message);
        # the number was already reset on disconnect.
        with self.lock:
            self.connects += 1

    def _on_disconnect(self, *args: Any) -> None:
        with self.lock:
            self.disconnects += 1
            self.seq = None

    def _on_snapshot(self, snap: dict[str, Any]) -> None:
        with self.lock:
            if snap.get("room") != self.room:
                return
            self.snapshots += 1
            self.seq = snap["seq"]
            self.tiles = {t["id"]: t for t in snap["tiles"]}
            self.event, self.counters = snap["event"], snap["counters"]
            self.pending = {k: v for k, v in self.pending.items() if k > self.seq}
            self._drain()

    def _on_delta(self, delta: dict[str, Any]) -> None:
        with self.lock:
            self.events_seen.append(("delta", delta.get("seq")))
            if delta.get("room") != self.room or self.seq is None or delta["seq"] <= self.seq:
                return
            self.pending[delta["seq"]] = delta
            self._drain()
            if self.pending and self.gap_timer is None:
                self.gap_timer = threading.Timer(self.GAP_GRACE, self._gap_expired)
                self.gap_timer.daemon = True
                self.gap_timer.start()

    def _on_tick(self, tick: dict[str, Any]) -> None:
        with self.lock:
            self.events_seen.append(("tick", tick.get("seq")))
            if tick.get("room") != self.room or self.seq is None or tick["seq"] <= self.seq \
                    or self.gap_timer is not None:
                return
            # As wall.js: the room is ahead of us and nothing shows a gap (the last deltas were lost)
            self.gap_timer = threading.Timer(self.GAP_GRACE, self._behind_expired, args=(tick["seq"],))
            self.gap_timer.daemon = True
            self.gap_timer.start()

    def _behind_expired(self, seq: int) -> None:
        with self.lock:
            self.gap_timer = None
            if self.seq is not None and self.seq >= seq:
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    def _drain(self) -> None:
        while self.seq is not None and (self.seq + 1) in self.pending:
            delta = self.pending.pop(self.seq + 1)
            self.seq = delta["seq"]
            self.deltas += 1
            for tile in delta["tiles"]:  # deltas carry the changing fields: merge them into the tile
                self.tiles[tile["id"]] = {**self.tiles.get(tile["id"], {}), **tile}
            self.event, self.counters = delta["event"], delta["counters"]
        if not self.pending and self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        if not self.pending and self.gap_timer is None and not self._agrees_with_counters():
            # As wall.js: tiles that do not add up to the room's counters mean a lost update: resync.
            self.pending = {}
            self.gap_timer = threading.Timer(self.GAP_GRACE, self._mismatch_expired)
            self.gap_timer.daemon = True
            self.gap_timer.start()

    def _agrees_with_counters(self) -> bool:
        c = self.counters
        if not c:
            return True
        checked = sum(1 for t in self.tiles.values() if not t["is_host"] and t["checked_in"])
        attendees = sum(t["attendees"] for t in self.tiles.values())
        return checked == c["checked_in"] and attendees == c["attendee_checkins"]

    def _mismatch_expired(self) -> None:
        with self.lock:
            self.gap_timer = None
            if self._agrees_with_counters():
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    def _gap_expired(self) -> None:
        with self.lock:
            self.gap_timer = None
            if not self.pending:
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    # -- reading
    def attendees(self) -> dict[int, int]:
        with self.lock:
            return {pid: t["attendees"] for pid, t in self.tiles.items() if t["attendees"]}

    def state(self) -> str | None:
        with self.lock:
            return self.event["state"] if self.event else None

    def describe(self) -> str:
        with self.lock:
            return (f"{self.name}: seq={self.seq} connects={self.connects} disconnects={self.disconnects} "
                    f"snapshots={self.snapshots} deltas={self.deltas} resyncs={self.resyncs} "
                    f"pending={sorted(self.pending)[:5]} attendees={sum(self.attendees().values())}")
