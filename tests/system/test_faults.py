"""Faults, for real (issue 8): the production processes are started and broken while they work.

* a web process SIGKILLed in the middle of a burst of check-ins;
* Redis (a private redis-server) killed and restarted during an event;
* the scheduler process killed and restarted across reminders' due times;
* PostgreSQL refusing connections for a moment (a TCP proxy between the app and PostgreSQL).

Each test starts its own processes (the Procfile's command lines, LAUNCH_CONFIG=production), logs to
test-artifacts/, waits only by bounded polling, and stops everything in `finally`.
"""
from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psutil
import pytest
import redis as redis_lib
import requests

from tests.support.live_event import attendees_per_point, db_rows, db_scalar, prepare
from tests.support.load import UA, WallClient, attendee_checkin, client_id, login_cookie
from tests.support.processes import Proc, ProcSet, free_port, wait_http, wait_until
from tests.support.redis_server import RedisServer, private_redis
from tests.support.services import PG_HOST, PG_PORT, fresh_pg_database, pg_database
from tests.support.stack import migrate, production_env, start_scheduler, start_web
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

FINISHED = ("done", "missed", "failed", "cancelled")


# --- scanners that retry like the phone's offline queue ---------------------------------------------

@dataclass
class Scan:
    """One check-in as a scanner sends it: a client id kept across retries, and what each attempt got."""

    attendee_id: int
    point_id: int
    cid: str = field(default_factory=client_id)
    answers: list[Any] = field(default_factory=list)  # status codes, or "no answer"
    final: dict | None = None
    success_answers: int = 0

    @property
    def no_answer(self) -> int:
        return sum(1 for a in self.answers if a == "no answer")


def send_scan(scan: Scan, url: str, token: str, *, deadline: float, pause: float = 0.3) -> Scan:
    """Send until a final answer (200 or a 4xx refusal): no answer, 429 and 5xx keep the scan and retry
    with the same client id, as launch/static/js/scanner.js does."""
    while time.monotonic() < deadline:
        try:
            resp = attendee_checkin(url, token, scan.point_id, scan.attendee_id, scan.cid, timeout=10)
        except requests.RequestException:
            scan.answers.append("no answer")
            time.sleep(pause)
            continue
        scan.answers.append(resp.status_code)
        if resp.status_code == 429 or resp.status_code >= 500:
            time.sleep(pause)
            continue
        scan.final = resp.json()
        if resp.status_code == 200 and scan.final.get("ok"):
            scan.success_answers += 1
        return scan
    return scan


def run_scans(scans: list[Scan], url: str, tokens: list[str], *, concurrency: int, timeout: float,
              on_answer: Any = None) -> None:
    """Send `scans` from `concurrency` scanner threads (each with its own API token)."""
    deadline = time.monotonic() + timeout

    def work(i: int, scan: Scan) -> None:
        send_scan(scan, url, tokens[i % len(tokens)], deadline=deadline)
        if on_answer is not None:
            on_answer(scan)

    with ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(work, i, scan) for i, scan in enumerate(scans)]
        for f in futures:
            f.result(timeout=timeout + 30)


def assert_recorded_once(db_url: str, event_id: int, scans: list[Scan]) -> None:
    """Every scan ended accepted, and the database holds exactly one row per scan, under its client id."""
    unanswered = [s for s in scans if s.final is None]
    assert not unanswered, f"{len(unanswered)} scan(s) never got a final answer, e.g. {unanswered[0]}"
    refused = [s for s in scans if not s.final.get("ok")]
    assert not refused, f"{len(refused)} scan(s) refused, e.g. {refused[0].final}"
    rows = db_rows(db_url, "SELECT client_id, attendee_id, event_point_id FROM attendee_checkins "
                           "WHERE event_id = :e", e=event_id)
    by_cid: dict[str, list[tuple]] = {}
    for cid, attendee_id, point_id in rows:
        by_cid.setdefault(cid, []).append((attendee_id, point_id))
    assert len(rows) == len(scans), f"{len(rows)} rows for {len(scans)} scans"
    for scan in scans:
        assert by_cid.get(scan.cid) == [(scan.attendee_id, scan.point_id)], scan


def assert_walls_match_database(walls: list[WallClient], db_url: str, event_id: int, timeout: float = 30) -> None:
    """Within a bounded wait, every wall's tiles show the database's attendee count per point."""
    truth = attendees_per_point(db_url, event_id)
    for wall in walls:
        try:
            wait_until(lambda w=wall: w.attendees() == truth, timeout, f"{wall.name} to show the database")
        except AssertionError:
            seen = wall.attendees()
            diff = {p: (seen.get(p), truth.get(p)) for p in set(seen) | set(truth) if seen.get(p) != truth.get(p)}
            raise AssertionError(f"{wall.describe()}; tiles (wall, database) differing: {diff}") from None


# --- the stack --------------------------------------------------------------------------------------

class Stack:
    """Web processes (and optionally the scheduler) of one test, with the database and Redis it uses."""

    def __init__(self, db_url: str, redis_url: str, secret: str, *, app_db_url: str | None = None,
                 **env: str) -> None:
        self.db_url, self.redis_url, self.secret = db_url, redis_url, secret
        self.env = production_env(app_db_url or db_url, redis_url, secret, **env)
        self.procs = ProcSet()
        self.webs: dict[str, tuple[Proc, str]] = {}
        self.proxies: list[TcpProxy] = []
        self.walls: list[WallClient] = []

    def web(self, name: str) -> str:
        port = free_port()
        proc = start_web(self.procs, f"faults-{name}", port, self.env)
        url = f"http://127.0.0.1:{port}"
        self.webs[name] = (proc, url)
        return url

    def scheduler(self, name: str = "scheduler") -> Proc:
        return start_scheduler(self.procs, f"faults-{name}", self.env)

    def wait_ready(self) -> None:
        for proc, url in self.webs.values():
            wait_http(url + "/healthz", 90, check=proc.check_alive)

    def proxy(self, backends: list[str], **kw: Any) -> TcpProxy:
        proxy = TcpProxy([("127.0.0.1", int(u.rsplit(":", 1)[1])) for u in backends], **kw)
        proxy.up()
        self.proxies.append(proxy)
        return proxy

    def wall(self, url: str, cookie: str, event_id: int, name: str) -> WallClient:
        wall = WallClient(url, cookie, event_id, name)
        self.walls.append(wall)
        wall.connect()
        return wall

    def stop(self) -> None:
        for wall in self.walls:
            wall.close()
        self.procs.stop()
        for proxy in self.proxies:
            proxy.down()


@pytest.fixture
def pg() -> str:
    return fresh_pg_database(pg_database("faults"))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A private redis-server for the test: its keys and its Socket.IO channel are its own."""
    procs = ProcSet()
    try:
        yield private_redis(procs)
    finally:
        procs.stop()


@pytest.fixture
def secret() -> str:
    return secrets.token_hex(32)


# --- a web process killed mid-burst ------------------------------------------------------------------

def test_web_process_killed_mid_burst_loses_and_doubles_nothing_and_walls_resync(pg, redis_url, secret):
    migrate(pg)
    data = prepare(pg, secret, attendees=300, api_tokens=6)
    event_id = data["event_id"]
    stack = Stack(pg, redis_url, secret)
    try:
        web1, web2 = stack.web("web1"), stack.web("web2")
        stack.wait_ready()
        cookie = login_cookie(web2, data["username"], data["password"])
        # nginx-like: scanners round robin over both; walls prefer web.1 and fail over to web.2
        balancer = stack.proxy([web1, web2])
        walls_lb = stack.proxy([web1, web2], failover=True)
        moving = [stack.wall(walls_lb.url, cookie, event_id, f"wall{i}@web1-then-web2") for i in range(2)]
        staying = stack.wall(web2, cookie, event_id, "wall@web2")
        web1_proc = stack.webs["web1"][0]
        # web.1 becomes the wall sender (the first process with a change takes the lease): the kill
        # below then also kills the sender, and web.2 must take over and resend the live tiles.
        first = Scan(*data["attendees"][0])
        send_scan(first, web1, data["api_tokens"][0], deadline=time.monotonic() + 30)
        web1_pids = {c.pid for c in psutil.Process(web1_proc.pid).children(recursive=True)} | {web1_proc.pid}
        wait_until(lambda: int((redis_lib.Redis.from_url(redis_url).get("launch:wall:leader") or b"0-")
                               .split(b"-")[0]) in web1_pids, 20, "web.1 to hold the wall sender's lease")

        scans = [Scan(a, p) for a, p in data["attendees"][1:]]
        random.shuffle(scans)  # points in any order, as at a real launch
        answered = {"n": 0, "at_kill": None}
        lock = threading.Lock()
        killed = threading.Event()

        def on_answer(scan: Scan) -> None:
            with lock:
                answered["n"] += 1
                if answered["n"] == 100 and not killed.is_set():
                    killed.set()
                    answered["at_kill"] = answered["n"]
                    web1_proc.expected_dead = True
                    web1_proc.kill()  # SIGKILL to gunicorn's master and worker, while requests are in flight

        run_scans(scans, balancer.url, data["api_tokens"], concurrency=6, timeout=120, on_answer=on_answer)
        assert killed.is_set() and not web1_proc.alive
        assert first.success_answers == 1
        scans = [first, *scans]
        assert_recorded_once(pg, event_id, scans)
        # the answers the scanners got: at least one request was cut or refused around the kill (no answer),
        # and every such scan, retried with its client id, is recorded once (checked above)
        retried = [s for s in scans if s.no_answer or len(s.answers) > 1]
        print(f"scans={len(scans)} retried={len(retried)} no-answer attempts={sum(s.no_answer for s in scans)} "
              f"replayed={sum(1 for s in scans if s.final and s.final.get('replay'))}")
        assert all(s.success_answers == 1 for s in scans)
        # walls: the ones on web.1 reconnected to web.2 and resynchronised: they show the database
        assert_walls_match_database(moving, pg, event_id)
        for wall in moving:
            assert wall.disconnects >= 1 and wall.connects >= 2 and wall.snapshots >= 2, wall.describe()
        assert staying.disconnects == 0, staying.describe()
        # A wall that stayed on web.2 missed what web.1, the sender, had drained but not sent when it
        # died: web.2 takes the lease over and resends every live tile, and the counters every delta
        # carries, or the next wall_tick, bring the wall back to the database.
        assert_walls_match_database([staying], pg, event_id, timeout=20)
    finally:
        stack.stop()


# --- Redis restarted during the event ---------------------------------------------------------------

def test_redis_restart_during_event_walls_recover_and_no_checkin_is_lost(pg, secret):
    migrate(pg)
    data = prepare(pg, secret, attendees=120, api_tokens=3)
    event_id = data["event_id"]
    people = [Scan(a, p) for a, p in data["attendees"]]
    before, during, after = people[:40], people[40:80], people[80:]
    procs = ProcSet()
    redis_server = RedisServer(procs)
    redis_server.start()
    stack = Stack(pg, redis_server.url, secret)
    try:
        web1, web2 = stack.web("web1"), stack.web("web2")
        stack.wait_ready()
        balancer = stack.proxy([web1, web2])
        cookie = login_cookie(web1, data["username"], data["password"])
        walls = [stack.wall(web1, cookie, event_id, "wall@web1"), stack.wall(web2, cookie, event_id, "wall@web2")]

        run_scans(before, balancer.url, data["api_tokens"], concurrency=3, timeout=60)
        assert_walls_match_database(walls, pg, event_id)

        redis_server.kill()
        restart = threading.Timer(4.0, redis_server.start)
        restart.start()
        try:
            run_scans(during, balancer.url, data["api_tokens"], concurrency=3, timeout=60)
        finally:
            restart.join(timeout=30)
        assert redis_server.proc is not None and redis_server.proc.alive
        run_scans(after, balancer.url, data["api_tokens"], concurrency=3, timeout=60)

        assert_recorded_once(pg, event_id, people)
        outage_answers = sorted({str(a) for s in during for a in s.answers})
        print("answers during the outage:", outage_answers)
        # check-ins do not depend on Redis: no 5xx while it was away (rate limits fall back to memory)
        assert not [a for s in during for a in s.answers if isinstance(a, int) and a >= 500], outage_answers
        for proc, _url in stack.webs.values():
            proc.check_alive()
        # A restarted Redis starts the rooms' numbers from the clock (a forward jump: a gap), and tiles that
        # disagree with a delta's counters trigger a resync: the walls show the database again.
        assert_walls_match_database(walls, pg, event_id, timeout=90)
    finally:
        stack.stop()
        procs.stop()


# --- the scheduler killed and restarted across due times ------------------------------------------

def _schedule(db_url: str, secret: str, tasks: list[tuple[str, timedelta, int, dict]]) -> list[int]:
    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.services import scheduling

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=secret)
    with app.app_context():
        now = utcnow()
        rows = [scheduling.schedule_task(kind, now + due_in, event_id=event_id, payload=payload)
                for kind, due_in, event_id, payload in tasks]
        db.session.commit()
        ids = [r.id for r in rows]
        db.session.remove()
        db.engine.dispose()
    return ids


def _task_states(db_url: str, ids: list[int]) -> dict[int, tuple[str, int, int]]:
    """id -> (status, attempts, notices recorded for it)."""
    rows = db_rows(db_url, "SELECT t.id, t.status, t.attempts, (SELECT COUNT(*) FROM notifications n "
                           "WHERE n.task_id = t.id) FROM scheduled_tasks t WHERE t.id = ANY(:ids)", ids=ids)
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _kill_when_running(db_url: str, task_id: int, scheduler: Proc, timeout: float) -> str:
    """Poll (every ~2 ms) until the scheduler has claimed the task, SIGKILL it at once; the task's status after."""
    import psycopg

    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = conn.execute("SELECT status FROM scheduled_tasks WHERE id = %s", (task_id,)).fetchone()[0]
            if status != "pending":
                break
            scheduler.check_alive()
            time.sleep(0.002)
        else:
            raise AssertionError(f"the scheduler did not claim task {task_id} within {timeout}s")
        scheduler.expected_dead = True
        scheduler.kill()
        return conn.execute("SELECT status FROM scheduled_tasks WHERE id = %s", (task_id,)).fetchone()[0]


def test_scheduler_killed_and_restarted_sends_each_reminder_once_or_records_it_missed(pg, redis_url, secret):
    migrate(pg)
    # a host per district: each reminder is one in-app notice per host (and takes a moment to build)
    data = prepare(pg, secret, start_in=timedelta(hours=2), state="scheduled", host_codes=("districts",))
    event_id = data["event_id"]
    hosts = len(data["host_ids"])
    assert hosts == 13
    stack = Stack(pg, redis_url, secret, SCHEDULER_SWEEP_SECONDS="1", SCHEDULER_TASK_LEASE_SECONDS="3",
                  SCHEDULER_MISFIRE_GRACE_MINUTES="1")
    try:
        # 1. killed before the due time, restarted after it (within the grace): sent once
        scheduler = stack.scheduler("scheduler-1")
        canary = _schedule(pg, secret, [("event.reminder", timedelta(seconds=0), event_id, {"offset": 121})])
        wait_until(lambda: _task_states(pg, canary)[canary[0]][0] == "done", 60,
                   "the scheduler to run a due reminder", check=scheduler.check_alive)
        assert _task_states(pg, canary)[canary[0]] == ("done", 1, hosts)
        reminder = _schedule(pg, secret, [("event.reminder", timedelta(seconds=4), event_id, {"offset": 120})])[0]
        scheduler.expected_dead = True
        scheduler.kill()
        wait_until(lambda: db_scalar(pg, "SELECT due_dt < now() - interval '1 second' FROM scheduled_tasks "
                                         "WHERE id = :i", i=reminder), 20, "the reminder's due time to pass")
        assert _task_states(pg, [reminder])[reminder] == ("pending", 0, 0)
        scheduler = stack.scheduler("scheduler-2")
        wait_until(lambda: _task_states(pg, [reminder])[reminder][0] in FINISHED, 60,
                   "the restarted scheduler to run the late reminder", check=scheduler.check_alive)
        assert _task_states(pg, [reminder])[reminder] == ("done", 1, hosts)

        # 2. killed while running a reminder (claimed, not yet committed): after the lease (3 s) the next
        #    scheduler runs it again, and its notices exist once. Repeated until two kills landed mid-run.
        interrupted, tried, n = [], [], 3
        for offset in range(90, 80, -1):
            task_id = _schedule(pg, secret, [("event.reminder", timedelta(seconds=0), event_id, {"offset": offset})])[0]
            tried.append(task_id)
            status = _kill_when_running(pg, task_id, scheduler, 30)
            if status == "running":
                interrupted.append(task_id)
                assert _task_states(pg, [task_id])[task_id][2] == 0  # its uncommitted notices died with it
            scheduler = stack.scheduler(f"scheduler-{n}")
            n += 1
            if len(interrupted) >= 2:
                break
        assert interrupted, f"no kill landed between claim and commit in {len(tried)} tries"
        wait_until(lambda: all(s[0] == "done" for s in _task_states(pg, tried).values()), 60,
                   "the interrupted reminders to be recovered and run", check=scheduler.check_alive)
        states = _task_states(pg, tried)
        for task_id, (status, attempts, notices) in states.items():
            assert notices == hosts, f"task {task_id}: {notices} notices for {hosts} hosts ({attempts} attempts)"
        assert all(states[t][1] >= 2 for t in interrupted), states
        print(f"kills: {len(tried)}, landed mid-run: {len(interrupted)}; attempts: {[states[t][1] for t in tried]}")

        # 3. down across the due time and beyond the grace (1 minute): recorded missed, nothing sent
        scheduler.expected_dead = True
        scheduler.kill()
        late = _schedule(pg, secret, [("event.reminder", timedelta(minutes=-2), event_id, {"offset": 30})])[0]
        scheduler = stack.scheduler(f"scheduler-{n}")
        wait_until(lambda: _task_states(pg, [late])[late][0] in FINISHED, 60,
                   "the restarted scheduler to judge the stale reminder", check=scheduler.check_alive)
        assert _task_states(pg, [late])[late] == ("missed", 1, 0)
        # and nothing else was sent twice meanwhile
        assert db_scalar(pg, "SELECT COUNT(*) FROM notifications") == hosts * (2 + len(tried))
    finally:
        stack.stop()


# --- PostgreSQL refusing connections ------------------------------------------------------------------

def test_database_outage_answers_503_try_again_and_recovers_by_itself(pg, redis_url, secret):
    migrate(pg)
    data = prepare(pg, secret, attendees=20, api_tokens=1)
    event_id, token = data["event_id"], data["api_tokens"][0]
    pg_proxy = TcpProxy([(PG_HOST, PG_PORT)])
    pg_proxy.up()
    proxied_url = pg.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{pg_proxy.port}")
    stack = Stack(pg, redis_url, secret, app_db_url=proxied_url)
    stack.proxies.append(pg_proxy)
    try:
        web = stack.web("web1")
        stack.wait_ready()
        cookie = login_cookie(web, data["username"], data["password"])
        people = [Scan(a, p) for a, p in data["attendees"]]
        send_scan(people[0], web, token, deadline=time.monotonic() + 20)
        assert people[0].final["code"] == "checked_in"

        pg_proxy.down()  # refuse new connections, drop the open ones
        outage = people[1]
        for _ in range(3):
            resp = attendee_checkin(web, token, outage.point_id, outage.attendee_id, outage.cid)
            assert resp.status_code == 503, resp.text[:500]
            body = resp.json()
            assert body["ok"] is False and body["code"] == "database_unavailable"
            assert body["message"] and "Traceback" not in resp.text
            assert resp.headers.get("Retry-After")
        health = requests.get(web + "/healthz", headers={"Accept": "application/json"}, timeout=10)
        assert health.status_code == 503 and health.json()["code"] == "database_unavailable"
        page = requests.get(f"{web}/wall/{event_id}", headers={"Cookie": cookie, "User-Agent": UA}, timeout=10)
        assert page.status_code == 503 and 'data-code="database_unavailable"' in page.text
        assert "Traceback" not in page.text
        assert db_scalar(pg, "SELECT COUNT(*) FROM attendee_checkins WHERE client_id = :c", c=outage.cid) == 0

        # a scanner keeps retrying the same scan while the database is away; it is recorded once it is back
        retrier = threading.Thread(target=send_scan, args=(outage, web, token),
                                   kwargs={"deadline": time.monotonic() + 60, "pause": 0.5})
        retrier.start()
        time.sleep(2)  # the outage lasts a moment (this is the fault, not an assertion)
        pg_proxy.up()
        retrier.join(timeout=70)
        assert outage.final is not None and outage.final["code"] == "checked_in", outage
        assert 503 in outage.answers and outage.answers[-1] == 200
        wait_until(lambda: requests.get(web + "/healthz", timeout=5).status_code == 200, 30,
                   "the app to recover by itself")
        assert login_cookie(web, data["username"], data["password"])  # sessions and pages work again
        send_scan(people[2], web, token, deadline=time.monotonic() + 20)
        assert_recorded_once(pg, event_id, people[:3])
        # no request fell through to the generic 500 handler (a background wall flush may log its failure)
        log_path = stack.webs["web1"][0].log_path
        log = log_path.read_text(errors="replace")
        assert '" 500 ' not in log and "unhandled error" not in log, f"a 500 answer in {log_path}"
    finally:
        stack.stop()
