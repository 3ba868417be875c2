"""Scale-out for real (issue 7): the production stack started from the Procfile by honcho.

`honcho start -f Procfile -c web=2,scheduler=1` with LAUNCH_CONFIG=production, a random SECRET_KEY, its
own PostgreSQL database migrated by `flask db upgrade`, its own redis-server. honcho gives
web.1 the port PORT and web.2 PORT+1 (then +100 per process type: the scheduler gets PORT+100, unused).

A wall client signed in through the real form and connected to web.2 sees the tiles change after
check-ins POSTed to web.1 with a Bearer API token; a task due a few seconds later is run by the
`scheduler` process (web processes run no scheduler in production) and its state change reaches
the same wall through Redis.
"""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest

from tests.support.live_event import db_rows, db_scalar, prepare
from tests.support.load import WallClient, attendee_checkin, client_id, login_cookie, site_checkin
from tests.support.processes import BIN, ProcSet, free_port_run, port_is_free, wait_http, wait_until
from tests.support.redis_server import private_redis
from tests.support.services import fresh_pg_database, pg_database
from tests.support.stack import migrate, production_env

pytestmark = pytest.mark.slow



def schedule(db_url: str, secret: str, kind: str, due_in: timedelta, event_id: int, payload: dict) -> int:
    """Add a pending task due `due_in` from now (written here, run by the scheduler process)."""
    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.services import scheduling

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=secret)
    with app.app_context():
        task = scheduling.schedule_task(kind, utcnow() + due_in, event_id=event_id, payload=payload)
        db.session.commit()
        task_id = task.id
        db.session.remove()
        db.engine.dispose()
    return task_id


def test_procfile_stack_checkin_on_web1_reaches_wall_on_web2_and_scheduler_runs_tasks():
    db_url = fresh_pg_database(pg_database("scaleout"))
    secret = secrets.token_hex(32)
    migrate(db_url)
    # scheduled in 30 minutes, connection-test window open (check-in allowed), 10 people on the roster
    data = prepare(db_url, secret, attendees=10, start_in=timedelta(minutes=30), state="scheduled")
    event_id = data["event_id"]
    base = free_port_run(2)
    web1, web2 = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
    stack = ProcSet()
    wall = None
    try:
        env = production_env(db_url, private_redis(stack), secret, PORT=str(base))
        honcho = stack.start("scaleout-honcho", [str(BIN / "honcho"), "start", "-f", "Procfile",
                                                 "-c", "web=2,scheduler=1"], env)
        wait_http(web1 + "/healthz", 90, check=honcho.check_alive)
        wait_http(web2 + "/healthz", 90, check=honcho.check_alive)
        honcho.remember_children()
        started = wait_until(lambda: "scheduler.1 started" in honcho.log_path.read_text(errors="replace"),
                             30, "honcho to start scheduler.1")
        assert started

        cookie = login_cookie(web2, data["username"], data["password"])
        wall = WallClient(web2, cookie, event_id, "wall@web.2")
        wall.connect()
        assert len(wall.tiles) == 187
        assert wall.counters["checked_in"] == 0 and wall.state() == "scheduled"

        # a site check-in and an attendee check-in, both POSTed to web.1
        token = data["api_tokens"][0]
        point_id = data["point_ids"][0]
        resp = site_checkin(web1, token, data["site_tokens"][point_id])
        assert resp.status_code == 200 and resp.json()["ok"], resp.text
        wait_until(lambda: wall.tiles[point_id]["checked_in"], 20, "the site check-in on web.2's wall")

        attendee_id, attendee_point = data["attendees"][0]
        resp = attendee_checkin(web1, token, attendee_point, attendee_id, client_id())
        assert resp.status_code == 200 and resp.json()["code"] == "checked_in", resp.text
        wait_until(lambda: wall.tiles[attendee_point]["attendees"] == 1, 20,
                   "the attendee check-in on web.2's wall")
        assert wall.counters["checked_in"] == 1

        # the scheduler process: the event goes live by its task, due in 3 seconds
        task_id = schedule(db_url, secret, "event.state", timedelta(seconds=3), event_id, {"to": "live"})
        wait_until(lambda: wall.state() == "live", 30, "the scheduled state change on the wall",
                   check=honcho.check_alive)
        status, attempts = db_rows(db_url, "SELECT status, attempts FROM scheduled_tasks WHERE id = :i",
                                   i=task_id)[0]
        assert (status, attempts) == ("done", 1)
        assert db_scalar(db_url, "SELECT state FROM events WHERE id = :e", e=event_id) == "live"
        # the state change is recorded once (one activity row), whatever the number of web processes
        assert db_scalar(db_url, "SELECT COUNT(*) FROM activities WHERE event_id = :e AND kind = 'state'",
                         e=event_id) == 1
        # both web processes and the scheduler are still up under honcho
        log = honcho.log_path.read_text(errors="replace")
        for name in ("web.1", "web.2", "scheduler.1"):
            assert f"{name} started" in log and f"{name} stopped" not in log
    finally:
        if wall is not None:
            wall.close()
        stack.stop()
    # torn down: nothing answers any more
    time.sleep(0.2)
    assert port_is_free(base) and port_is_free(base + 1)
