"""The embedded default for real: `python app.py` as `make run` starts it (SQLite, one process, the
scheduler in-process), on its default gevent worker and on Werkzeug's threads (EMBEDDED_WORKER).

A wall signed in through the real form sees concurrent check-ins (each person once, retries
answered once) and a state change run by the in-process scheduler.
"""
from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from tests.support.live_event import db_rows, db_scalar, prepare
from tests.support.load import WallClient, attendee_checkin, client_id, login_cookie
from tests.support.processes import BIN, ProcSet, free_port, wait_http, wait_until
from tests.support.stack import base_env, migrate
from tests.system.test_scaleout import schedule

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("worker", ["gevent", "threading"])
def test_python_app_py_serves_the_wall_checkins_and_the_scheduler(tmp_path, worker):
    db_url = f"sqlite:///{tmp_path}/embedded.db"
    secret = secrets.token_hex(32)
    migrate(db_url)
    data = prepare(db_url, secret, attendees=40, start_in=timedelta(minutes=30), state="scheduled")
    event_id, token = data["event_id"], data["api_tokens"][0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack = ProcSet()
    wall = None
    try:
        env = base_env(LAUNCH_CONFIG="development", SECRET_KEY=secret, DATABASE_URL=db_url, PORT=str(port),
                       EMBEDDED_WORKER=worker, SCHEDULER_SWEEP_SECONDS="1")
        env.pop("REDIS_URL", None)
        server = stack.start(f"embedded-{worker}", [str(BIN / "python"), "app.py"], env)
        wait_http(url + "/healthz", 90, check=server.check_alive)
        served_by = requests.get(url + "/healthz", timeout=5).headers.get("Server", "")
        assert ("Werkzeug" in served_by) == (worker == "threading"), served_by

        wall = WallClient(url, login_cookie(url, data["username"], data["password"]), event_id, f"wall@{worker}")
        wall.connect()
        assert len(wall.tiles) == 187 and wall.state() == "scheduled"

        # 40 people checked in at once, every tenth scan sent twice with the same client id
        scans = [(attendee, point, client_id()) for attendee, point in data["attendees"]]
        scans += [scans[i] for i in range(0, len(scans), 10)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda s: attendee_checkin(url, token, s[1], s[0], s[2]), scans))
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers if a.status_code != 200][:3]
        assert sum(1 for a in answers if a.json()["replay"]) == len(scans) - 40
        assert db_scalar(db_url, "SELECT COUNT(*) FROM attendee_checkins WHERE event_id = :e", e=event_id) == 40
        wait_until(lambda: sum(wall.attendees().values()) == 40, 20, "40 check-ins on the wall",
                   check=server.check_alive)
        assert wall.counters["attendee_checkins"] == 40 and wall.resyncs == 0

        # the in-process scheduler runs a task due in 2 seconds; the wall shows its state change
        task_id = schedule(db_url, secret, "event.state", timedelta(seconds=2), event_id, {"to": "live"})
        wait_until(lambda: wall.state() == "live", 30, "the scheduled state change on the wall",
                   check=server.check_alive)
        assert db_rows(db_url, "SELECT status, attempts FROM scheduled_tasks WHERE id = :i", i=task_id)[0] == \
            ("done", 1)
    finally:
        if wall is not None:
            wall.close()
        stack.stop()
