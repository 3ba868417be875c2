"""Scaled out for real: two gunicorn web processes + Redis + PostgreSQL, and a scheduler-like process.

A check-in posted to process A reaches a wall client connected to process B; a check-in posted to B
comes next in the same numbering (Redis INCR); a presence sweep run in a process with no web server
reaches B's client through the Redis message queue.
"""
from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import ProcSet
from tests.support.redis_server import private_redis
from tests.support.services import pg_database, pg_database_url

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECRET = "multiprocess-test-secret-key-0123456789"
UA = "launch-multiprocess-test"
BINH_THANH, BINH_SON, TRA_BONG = "21046", "524", "525"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_multiproc_url() -> str:
    return pg_database_url(pg_database("multiproc"))


@pytest.fixture
def redis_ready() -> Iterator[str]:
    """A private redis-server: its keys, its numbers and its Socket.IO channel are this test's own."""
    procs = ProcSet()
    try:
        yield private_redis(procs)
    finally:
        procs.stop()


@pytest.fixture
def seeded(pg_multiproc_url, redis_ready):
    """Schema, directory, a 187-point event, an operator with an API token; the site tokens."""
    from launch import create_app
    from launch.extensions import db
    from launch.services.api_tokens import create_api_token
    from launch.services.directory import import_bundled_directory
    from launch.services.tokens import site_token
    from launch.services.users import create_user
    from tests.support.factories import make_event, point_of

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=pg_multiproc_url, SECRET_KEY=SECRET)
    with app.app_context():
        db.drop_all()
        db.create_all()
        import_bundled_directory()
        operator = create_user("op", "test-pass-2023", "operator")
        event = make_event()
        _row, api_secret = create_api_token(operator, "multiprocess test")
        points = {code: point_of(event, code) for code in (BINH_THANH, BINH_SON, TRA_BONG)}
        data = {"event_id": event.id, "api_secret": api_secret,
                "point_ids": {c: p.id for c, p in points.items()},
                "tokens": {c: site_token(p) for c, p in points.items()}}
        db.session.remove()
    yield data
    with app.app_context():
        db.engine.dispose()


def server_env(db_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(LAUNCH_CONFIG="development", DATABASE_URL=db_url, REDIS_URL=redis_url, SECRET_KEY=SECRET,
               SCHEDULER_ENABLED="0", PYTHONPATH=str(ROOT), PUBLIC_BASE_URL="http://127.0.0.1")
    env.pop("TEST_DATABASE_URL", None)
    return env


@pytest.fixture
def web_processes(seeded, pg_multiproc_url, redis_ready, tmp_path, artifacts_dir_or_tmp):
    """Two gunicorn processes of the app on free ports, in the gthread worker (threading mode; the
    Procfile's gevent worker is covered by test_scaleout and test_faults); logs in files; always terminated."""
    procs, urls, logs = [], [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log_path = artifacts_dir_or_tmp / f"multiprocess-web-{name}.log"
            log = open(log_path, "w")  # noqa: SIM115
            logs.append(log)
            procs.append(subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--worker-class", "gthread", "--workers", "1",
                 "--threads", "50", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--access-logfile", "-",
                 "app:app"],
                cwd=ROOT, env=server_env(pg_multiproc_url, redis_ready), stdout=log, stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        pending = set(urls)
        while pending and time.monotonic() < deadline:
            for url in list(pending):
                try:
                    if requests.get(url + "/login", timeout=2).status_code == 200:
                        pending.discard(url)
                except requests.RequestException:
                    pass
            for p in procs:
                assert p.poll() is None, "a web process died; see test-artifacts/multiprocess-web-*.log"
            time.sleep(0.2)
        assert not pending, f"web processes did not start: {pending}"
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        for log in logs:
            log.close()


@pytest.fixture
def artifacts_dir_or_tmp() -> Path:
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def signed_in_session(base: str) -> requests.Session:
    http = requests.Session()
    http.headers["User-Agent"] = UA
    form = http.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form)
    resp = http.post(base + "/login", data={"username": "op", "password": "test-pass-2023",
                                            "csrf_token": token.group(1) if token else ""},
                     allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text[:300]
    return http


def next_message(inbox: queue.Queue, name: str, predicate=lambda m: True, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {name} within {timeout}s")
        try:
            got_name, message = inbox.get(timeout=left)
        except queue.Empty:
            continue
        if got_name == name and predicate(message):
            return message


def post_checkin(base: str, seeded: dict, code: str) -> None:
    resp = requests.post(base + "/api/v1/site-checkins", json={"token": seeded["tokens"][code]},
                         headers={"Authorization": f"Bearer {seeded['api_secret']}"}, timeout=10)
    assert resp.status_code == 200, resp.text


def test_check_in_on_one_process_reaches_a_wall_on_the_other(seeded, web_processes, pg_multiproc_url, redis_ready):
    import socketio

    url_a, url_b = web_processes
    event_id = seeded["event_id"]
    inbox: queue.Queue = queue.Queue()
    client = socketio.Client(http_session=signed_in_session(url_b), reconnection=False)
    client.on("wall_snapshot", lambda m: inbox.put(("wall_snapshot", m)))
    client.on("wall_delta", lambda m: inbox.put(("wall_delta", m)))
    try:
        client.connect(url_b, transports=["websocket"], headers={"User-Agent": UA}, wait_timeout=10)
        ack = client.call("join", {"event": event_id}, timeout=10)
        assert ack == {"ok": True, "room": f"wall:{event_id}"}
        snap = next_message(inbox, "wall_snapshot")
        assert len(snap["tiles"]) == 187 and snap["counters"]["checked_in"] == 0

        # posted to A, seen on B
        post_checkin(url_a, seeded, BINH_THANH)
        point_id = seeded["point_ids"][BINH_THANH]
        delta = next_message(inbox, "wall_delta", lambda m: any(t["id"] == point_id for t in m["tiles"]))
        assert delta["seq"] == snap["seq"] + 1
        assert next(t for t in delta["tiles"] if t["id"] == point_id)["status"] == "checked_in"
        assert delta["counters"]["checked_in"] == 1

        # posted to B: the same room's numbering continues (shared through Redis)
        post_checkin(url_b, seeded, BINH_SON)
        second = next_message(inbox, "wall_delta",
                              lambda m: any(t["id"] == seeded["point_ids"][BINH_SON] for t in m["tiles"]))
        assert second["seq"] == delta["seq"] + 1
        assert second["counters"]["checked_in"] == 2

        # a process with no web server (the scheduler's): a presence sweep reaches B through Redis
        script = (
            "from datetime import timedelta\n"
            "from launch import create_app\n"
            "from launch.clock import utcnow\n"
            "from launch.extensions import db\n"
            "from launch.models import EventPoint\n"
            "from launch.realtime import publisher\n"
            "from launch.services.presence import check_presence\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            f"    p = db.session.get(EventPoint, {seeded['point_ids'][TRA_BONG]})\n"
            "    p.last_seen_dt = utcnow() - timedelta(minutes=5)\n"
            "    db.session.commit()\n"
            "    print('lost', check_presence())\n"
            "    publisher.flush()\n"
        )
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=server_env(pg_multiproc_url, redis_ready),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "lost 1" in done.stdout
        lost_id = seeded["point_ids"][TRA_BONG]
        third = next_message(inbox, "wall_delta", lambda m: any(t["id"] == lost_id for t in m["tiles"]))
        assert next(t for t in third["tiles"] if t["id"] == lost_id)["status"] == "signal_lost"
        assert third["seq"] == second["seq"] + 1
        assert third["feed"][0]["kind"] == "presence_lost"

        # resync from B gives the database truth with the latest number
        client.emit("resync", {"event": event_id})
        fresh = next_message(inbox, "wall_snapshot")
        assert fresh["seq"] == third["seq"]
        assert fresh["counters"]["checked_in"] == 2 and fresh["counters"]["signal_lost"] == 1
    finally:
        if client.connected:
            client.disconnect()


def test_anonymous_socket_is_refused_by_a_real_server(seeded, web_processes):
    import socketio

    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(web_processes[0], transports=["websocket"], wait_timeout=10)
