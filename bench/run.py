"""The benchmark: every mode and baseline in one run, on this machine, driven from separate processes.

    make bench                                   # every mode, default steps (about 15-25 minutes)
    make bench BENCH_ARGS="--quick"              # smoke run: small steps, small burst (a few minutes)
    .venv/bin/python bench/run.py --modes embedded,scaled1,scaled2 --rates 100,200,400 --step-seconds 8
    .venv/bin/python bench/run.py --national     # 3,356 points, 1,000 sockets

Modes (`--modes`, in this order by default):
  bare-emit    (c) bare Flask-SocketIO app, gunicorn gevent worker, one emit per check-in
  bare-batch   (d) the same, the check-ins of each 250 ms in one emit
  embedded     the app as `make run` serves it: `python app.py`, SQLite, scheduler in-process
  scaled1      the app scaled out: 1 web process (the Procfile's `web:` line), the scheduler
               process (`scheduler:`), PostgreSQL, Redis
  scaled2      the same with 2 web processes (sockets and check-ins spread over both)
  bare-thread  the bare per-emit app on threads (Werkzeug, as the embedded server)

Per mode: the servers start on loopback with fresh data (a live event of 187 points, one host
account and API token per point, a roster of distinct attendees); a calibration phase posts
check-ins with no viewer connected (server CPU per check-in without fan-out); then S sockets sign
in and open the wall, behaving as launch/static/js/wall.js does (bench/wallview.py), and check-ins
of distinct attendees are posted at stepped offered rates by separate scanner processes (Bearer
tokens). Every check-in x viewer pair is timed: scan->wall is the time from the check-in's send
to the moment that viewer's tile for the point first shows it (the j-th check-in sent to a point
is shown when the tile first counts j); a check-in a viewer never shows within --settle seconds
counts as infinitely late. A step is broken on wall p99 >
--wall-goal-ms, HTTP p99 > --http-goal-ms, achieved < 95 % of offered, or any pair never shown;
stepping stops at the first broken step. Then (embedded and scaled2 by default) a burst of
--burst scans, 1 in 20 sent twice with the same client id, while the viewers watch: lost and
double-counted check-ins are counted in the database, and every viewer's wall must converge on it.

Per step: offered and achieved rate, HTTP p50/p99, scan->wall p50/p99 over all pairs, server CPU
ms per check-in (CPU time of every server process / accepted check-ins), bytes per viewer per
check-in (websocket payload bytes received by the viewers / (check-ins x viewers)), resyncs and
gaps, peak RSS per server process, and the CPU the load generators used. Prints markdown tables
and writes everything (with the raw per-step figures) to bench-results/.

Everything shares this machine's cores: the generators' CPU is printed so it can be weighed.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wallview import hist_percentile, merge_hist  # noqa: E402

PY = sys.executable
BIN = Path(PY).parent  # the venv's bin: gunicorn, flask, py-spy
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "launch_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
BENCH_UA = "launch-bench/2.0"
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench-results")
ALL_MODES = ("bare-emit", "bare-batch", "embedded", "scaled1", "scaled2", "bare-thread")
LABELS = {
    "bare-emit": "(c) bare, gevent, emit per check-in",
    "bare-batch": "(d) bare, gevent, batched 250 ms",
    "embedded": "app, embedded",
    "scaled1": "app, scaled out, 1 web",
    "scaled2": "app, scaled out, 2 web",
    "bare-thread": "bare, threading, emit per check-in",
}
WARMUP = 20  # check-ins per web process before anything is measured
RESYNC_KEYS = ("resync_gap", "resync_tick", "resync_mismatch", "resync_interval", "resync_unknown_tile")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    values = sorted(values)
    return values[max(0, min(len(values) - 1, math.ceil(q / 100 * len(values)) - 1))]


def log(msg: str) -> None:
    print(msg, flush=True)


# --- data ---------------------------------------------------------------------------------------

def national_csv(path: Path) -> Path:
    """A national-size directory in the CSV import format: 1 IOC + 34 provinces + 3,321 communes.

    Names and codes are made up; the shape is today's map (34 provinces, 3,321 communes, about 98
    each), on the three-level import format (the provinces at its middle level).
    """
    lines = ["code,name,level,division_type,parent_code",
             "1,Trung tâm điều hành quốc gia (benchmark),province,tỉnh,"]
    communes, number = 3321, 0
    for p in range(34):
        pcode = str(100 + p)
        lines.append(f"{pcode},Tỉnh mô phỏng {p + 1:02d},district,thành phố,1")
        share = communes // 34 + (1 if p < communes % 34 else 0)
        for c in range(share):
            kind = "phường" if c % 5 == 0 else "xã"
            name = f"{kind.capitalize()} mô phỏng {p + 1:02d}-{c + 1:03d}"
            number += 1  # commune codes have five digits on every map
            lines.append(f"{number:05d},{name},commune,{kind},{pcode}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_national_directory(db_url: str, workdir: Path) -> str:
    """`flask directory import --country` when this version of the app has it, else the generated CSV."""
    env = {**os.environ, "DATABASE_URL": db_url, "LAUNCH_CONFIG": "development", "SCHEDULER_ENABLED": "0"}
    flask = [str(BIN / "flask"), "--app", "app.py", "directory", "import"]
    help_text = subprocess.run([*flask, "--help"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    if "--country" in help_text:
        done = subprocess.run([*flask, "--country"], cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode == 0:
            return "flask directory import --country: " + done.stdout.strip()
        log(f"  directory import --country failed ({done.stderr.strip()[:200]}); using the generated CSV")
    csv_path = national_csv(workdir / "national-units.csv")
    done = subprocess.run([*flask, str(csv_path)], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"national directory import failed: {done.stderr.strip()[:500]}")
    return "generated CSV (1 + 34 + 3,321 units): " + done.stdout.strip()


def prepare(db_url: str, attendees: int, viewer_password: str, *, national: bool, host_pages: bool,
            workdir: Path) -> dict[str, Any]:
    """Schema, directory, a live event of every unit, one host + API token per point, a roster.

    Goes through the app's own commands and services (`flask db upgrade`, the directory import,
    create_event, create_user, create_api_token) so the data is what the app itself would write.
    """
    from sqlalchemy import insert, select

    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import Attendee, EventPoint, Unit
    from launch.services.api_tokens import create_api_token
    from launch.services.directory import import_bundled_directory
    from launch.services.events import create_event
    from launch.services.presence import presence_token
    from launch.services.users import create_user

    env = {**os.environ, "DATABASE_URL": db_url, "LAUNCH_CONFIG": "development", "SCHEDULER_ENABLED": "0"}
    done = subprocess.run([str(BIN / "flask"), "--app", "app.py", "db", "upgrade"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed: {done.stderr.strip()[-500:]}")
    app = create_app("development", SQLALCHEMY_DATABASE_URI=db_url, SCHEDULER_ENABLED=False,
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", SECRET_KEY=os.environ["SECRET_KEY"])
    directory = load_national_directory(db_url, workdir) if national else None
    with app.app_context():
        if not national:
            import_bundled_directory()
            directory = "bundled Quảng Ngãi directory"
        create_user("bench-viewer", viewer_password, "viewer")  # the wall's viewers: organisers
        create_user("bench-operator", viewer_password, "operator")  # the QR sheet is the IOC's
        now = utcnow()
        roots = list(db.session.scalars(select(Unit).where(Unit.parent_id.is_(None))))
        data: dict[str, Any] = {"title": "Benchmark launch", "start": now + timedelta(hours=1),
                                "end": now + timedelta(hours=7), "invite": {"mode": "all"}}
        if len(roots) == 1:
            data["host_unit_id"] = roots[0].id
        event = create_event(data)
        event.state, event.start_dt, event.end_dt = "live", now - timedelta(minutes=5), now + timedelta(hours=6)
        db.session.commit()
        points = list(db.session.scalars(
            select(EventPoint).where(EventPoint.event_id == event.id).order_by(EventPoint.id)))
        out_points = []
        for point in points:
            if point.is_host:
                continue
            code = point.unit.code
            host = create_user(f"bench-host-{code}", secrets.token_hex(8), "host", unit_codes=[code])
            _token, secret = create_api_token(host, "benchmark scanner")
            out_points.append({"id": point.id, "unit_id": point.unit_id, "api_token": secret,
                               "token": presence_token(point, host) if host_pages else ""})
        units = [p["unit_id"] for p in out_points]
        rows = [{"event_id": event.id, "unit_id": units[i % len(units)], "full_name": f"Người tham dự {i}",
                 "search_name": f"nguoi tham du {i}", "badge_code": secrets.token_hex(8)} for i in range(attendees)]
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Attendee), rows[start:start + 5000])
        db.session.commit()
        ids = list(db.session.scalars(select(Attendee.id).where(Attendee.event_id == event.id)
                                      .order_by(Attendee.id)))
        result = {"event_id": event.id, "points": out_points, "point_ids": [p.id for p in points],
                  "point_groups": [p.group_id for p in points],
                  "attendee_ids": ids, "directory": directory}
        db.session.remove()
        db.engine.dispose()
    return result


def db_checkins(db_url: str, event_id: int) -> dict[str, Any]:
    """Check-in rows, distinct attendees and the attendee ids, read from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT attendee_id FROM attendee_checkins WHERE event_id = :e"),
                                          {"e": event_id})]
    engine.dispose()
    return {"rows": len(ids), "distinct": len(set(ids)), "ids": set(ids)}


def pg_available() -> str | None:
    """None if PostgreSQL and Redis answer, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means the scaled-out modes cannot run here
        return f"PostgreSQL not reachable at {PG_ADMIN}: {str(exc).splitlines()[0][:120]}"
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS}: {exc}"
    return None


def reset_pg(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


# --- processes ----------------------------------------------------------------------------------

NICE = {"value": 0}


def _niced() -> None:
    """In the child before exec: --nice (a negative value needs root) for servers and generators alike."""
    if NICE["value"]:
        os.nice(NICE["value"])


def tree_of(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_of(procs: list[psutil.Process]) -> float:
    """CPU seconds (user + system) of these processes, each with its children."""
    total = 0.0
    for proc in procs:
        for p in tree_of(proc):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                t = p.cpu_times()
                total += t.user + t.system
    return total


def rss_of(proc: psutil.Process) -> float:
    """RSS in MB of a process and its children (a gunicorn master and its worker count as one web process)."""
    total = 0
    for p in tree_of(proc):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total / 2**20


class PgBackends:
    """CPU of the PostgreSQL backends serving the bench database (the server's share on this machine)."""

    def __init__(self, dbname: str) -> None:
        self.dbname = dbname

    def sample(self) -> dict[int, float]:
        out = {}
        for p in psutil.process_iter(["cmdline"]):
            cmd = " ".join(p.info.get("cmdline") or [])
            if cmd.startswith("postgres:") and f" {self.dbname} " in cmd:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    t = p.cpu_times()
                    out[p.pid] = t.user + t.system
        return out

    @staticmethod
    def delta(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(v - before.get(pid, 0.0) for pid, v in after.items())


class Servers:
    """The processes under test: start, wait until they answer, CPU and RSS, stop."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.ps: dict[str, psutil.Process] = {}
        self.urls: list[str] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], port: int | None = None) -> None:
        logfile = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - the process writes it until stopped
        path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "PATH": path, **env}, stdout=logfile,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_niced)
        self.procs[name] = proc
        self.ps[name] = psutil.Process(proc.pid)
        if port is not None:
            self.urls.append(f"http://127.0.0.1:{port}")

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        for url in self.urls:
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.workdir}/{name}.log")
                if time.time() > deadline:
                    raise RuntimeError(f"{url} did not answer; see the logs in {self.workdir}")
                time.sleep(0.3)

    def cpu(self) -> dict[str, float]:
        return {name: cpu_of([p]) for name, p in self.ps.items()}

    def rss(self) -> dict[str, float]:
        return {name: round(rss_of(p), 1) for name, p in self.ps.items()}

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


class RssSampler(threading.Thread):
    """Peak RSS of every server process, sampled twice a second while the viewers are connected."""

    def __init__(self, servers: Servers) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.peak: dict[str, float] = {}
        self.overall: dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            for name, mb in self.servers.rss().items():
                self.peak[name] = max(self.peak.get(name, 0.0), mb)
                self.overall[name] = max(self.overall.get(name, 0.0), mb)
            time.sleep(0.5)

    def take(self) -> dict[str, float]:
        peak, self.peak = self.peak, {}
        return peak


class Generators:
    """Load-generator processes, each driven by JSON lines on stdin/stdout."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.roles: list[str] = []

    def start(self, role: str, cfg: dict[str, Any], name: str) -> subprocess.Popen:
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(cfg))
        err = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - kept open by the child
        proc = subprocess.Popen([PY, "-m", "bench.load", role, str(path)], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1, preexec_fn=_niced)
        self.procs.append(proc)
        self.roles.append(role)
        return proc

    def of(self, role: str) -> list[subprocess.Popen]:
        return [p for p, r in zip(self.procs, self.roles, strict=True) if r == role]

    @staticmethod
    def ask(procs: list[subprocess.Popen], cmds: list[dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
        """Send each process its command, then read every answer (they work in parallel)."""
        cmds = cmds if isinstance(cmds, list) else [cmds] * len(procs)
        for proc, cmd in zip(procs, cmds, strict=True):
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
        out = []
        for proc in procs:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"a load generator died (pid {proc.pid}); see its log in the work directory")
            out.append(json.loads(line))
        return out

    def cpu(self) -> float:
        return cpu_of([psutil.Process(p.pid) for p in self.procs if p.poll() is None])

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(Exception):
                    self.ask([proc], {"cmd": "stop"})
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def login_cookie(url: str, username: str, password: str) -> str:
    """Sign in through the real form (CSRF included); return the session cookie header.

    Cookies are carried by hand: production marks them Secure, which a client over plain http on
    loopback would otherwise not send back.
    """
    headers = {"User-Agent": BENCH_UA}  # Flask-Login's strong session protection binds the session to it

    def cookies_of(resp: requests.Response, jar: dict[str, str]) -> dict[str, str]:
        for header in resp.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return jar

    page = requests.get(url + "/login", headers=headers, timeout=10)
    jar = cookies_of(page, {})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    resp = requests.post(url + "/login", data={"username": username, "password": password,
                                               "csrf_token": token.group(1) if token else ""},
                         headers={**headers, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
                         allow_redirects=False, timeout=10)
    jar = cookies_of(resp, jar)
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    home = requests.get(url + "/", headers={**headers, "Cookie": cookie}, allow_redirects=False, timeout=10)
    if home.status_code != 200:
        raise RuntimeError(f"bench sign-in failed: {resp.status_code} then {home.status_code}")
    return cookie


def procfile_line(kind: str) -> str:
    """The command of a Procfile process type (`web`, `scheduler`), as honcho would run it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(kind + ":"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError(f"no {kind}: line in the Procfile")


# --- profiles -----------------------------------------------------------------------------------

class Profiler:
    """py-spy (non-blocking, 100 Hz) on every server process during the steps: collapsed stacks."""

    def __init__(self, servers: Servers, mode: str, workdir: Path) -> None:
        self.files: dict[str, Path] = {}
        self.procs: list[subprocess.Popen] = []
        spy = BIN / "py-spy"
        for name, proc in servers.procs.items():
            target = workdir / f"{mode}-{name}.collapsed.txt"
            cmd = [str(spy), "record", "--pid", str(proc.pid), "--subprocesses", "--nonblocking", "--rate", "100",
                   "--format", "raw", "--output", str(target)]
            self.procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.files[name] = target

    def stop(self) -> dict[str, Any]:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        return {name: top_frames(path) for name, path in self.files.items() if path.exists()}


def top_frames(path: Path, n: int = 10) -> dict[str, Any]:
    """The heaviest frames of a collapsed-stack file: by own samples, and including callees."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    idle = re.compile(r"\b(wait|select|poll|epoll|sleep|_wait_for_tstate_lock|recv|recv_into|accept|read)\b")
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        c = int(count)
        frames = [re.sub(r" \(.*?/(?:site-packages/)?", " (", f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith(("process ", "Thread.", "_bootstrap", "<module>"))]
        if not frames or idle.search(frames[-1].split(" (")[0]) or frames[-1].startswith("Hub.run ("):
            continue  # a thread or greenlet waiting is not CPU
        total += c
        own[frames[-1]] += c
        for f in set(frames):
            inclusive[f] += c
    return {"busy_samples": total,
            "own": [(f, round(100 * c / total, 1)) for f, c in own.most_common(n)] if total else [],
            "inclusive": [(f, round(100 * c / total, 1)) for f, c in inclusive.most_common(n + 15)
                          if not f.startswith(("run (", "main ("))][:n] if total else []}


# --- page timings (the app only) ---------------------------------------------------------------

def time_pages(url: str, cookie: str, event_id: int, password: str, tiles: int) -> dict[str, Any]:
    """QR sheet of the points, the wall snapshot over HTTP, the wall page's first render (operator's cookie)."""
    http = requests.Session()
    headers = {"Cookie": cookie, "User-Agent": BENCH_UA}
    out: dict[str, Any] = {}
    times = []
    resp = None
    for _ in range(3):
        t = time.perf_counter()
        resp = http.get(f"{url}/c/events/{event_id}/qr-sheet", headers=headers)
        times.append(time.perf_counter() - t)
        if not resp.ok:
            break
    out["qr_sheet_s_cold"] = round(times[0], 3) if resp.ok else f"HTTP {resp.status_code}"
    out["qr_sheet_s_warm"] = round(min(times), 3) if resp.ok else f"HTTP {resp.status_code}"
    snap = []
    for _ in range(10):
        t = time.perf_counter()
        resp = http.get(f"{url}/wall/{event_id}/snapshot.json", headers=headers)
        snap.append(time.perf_counter() - t)
    out["snapshot_http_ms_p50"] = round(statistics.median(snap) * 1000, 1) if resp.ok else f"HTTP {resp.status_code}"
    out["snapshot_bytes"] = len(resp.content) if resp.ok else None
    out["wall_first_render_ms"] = first_render(url, event_id, password, tiles)
    return out


def first_render(url: str, event_id: int, password: str, tiles: int) -> Any:
    """Navigation start -> every tile on screen, as a viewer, in headless Chromium (if installed)."""
    import shutil

    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not chromium:
        return "no chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "no playwright"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(user_agent=BENCH_UA)
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "bench-viewer")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        t = time.perf_counter()
        page.goto(f"{url}/wall/{event_id}")
        try:
            page.locator('[id^="tile-"]').nth(tiles - 1).wait_for(state="attached", timeout=30000)
            elapsed: Any = round((time.perf_counter() - t) * 1000)
        except Exception as exc:  # report, do not fail the run
            elapsed = f"tiles not shown: {str(exc).splitlines()[0][:80]}"
        browser.close()
    return elapsed


# --- one mode -----------------------------------------------------------------------------------

def plan_items(ids: list[int], start: int, count: int, n_points: int, rate: float, t0: float) -> list[list[Any]]:
    """Check-ins `start`..`start+count` of the roster, attendee k at point k mod n, due at t0 + i / rate."""
    return [[ids[k], k % n_points, t0 + i / rate] for i, k in enumerate(range(start, start + count))]


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """Round-robin: every process gets an even share of each step, interleaved in time."""
    return [items[i::parts] for i in range(parts)]


def accepted(row: list[Any]) -> bool:
    return row[5] == 200 and row[6] == "checked_in" and not row[7]


def sum_stats(replies: list[dict[str, Any]]) -> Counter:
    total: Counter = Counter()
    for r in replies:
        total.update(r["stats"])
    return total


def run_mode(mode: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start `mode`'s servers, calibrate, connect the viewers, step the rate, burst; return the figures."""
    bare = mode.startswith("bare")
    scaled = mode.startswith("scaled")
    sockets = args.scaled_sockets if scaled else args.sockets
    secret = secrets.token_hex(32)
    os.environ["SECRET_KEY"] = secret
    password = secrets.token_hex(12)
    n_points = 3355 if args.national else 186
    steps_needed = sum(int(r * args.step_seconds) for r in args.rates)
    calib_n = int(args.calib_rate * args.calib_seconds)
    do_burst = args.burst > 0 and mode in args.burst_modes
    roster = WARMUP * 2 + calib_n + steps_needed + (args.burst if do_burst else 0) + 100
    servers = Servers(workdir)
    gens = Generators(workdir)
    result: dict[str, Any] = {"mode": mode, "label": LABELS[mode], "sockets": sockets, "steps": []}
    db_url = None
    pg = PgBackends(PG_DB) if scaled else None
    started = time.time()
    try:
        if bare:
            db_path = workdir / f"{mode}.db"
            from bench.baseline_app import init_db

            init_db(str(db_path))
            port = free_port()
            env = {"BARE_DB": str(db_path), "BARE_EMIT": "batch" if mode == "bare-batch" else "each",
                   "PYTHONUNBUFFERED": "1"}
            if mode == "bare-thread":
                servers.start("bare", [PY, "bench/baseline_app.py", str(port)], env, port)
            else:
                line = procfile_line("web")
                if " app:app" not in line:
                    raise RuntimeError("the Procfile's web: line no longer serves app:app; update bench/run.py")
                line = line.replace(" app:app", " bench.baseline_app:app")
                servers.start("bare", ["bash", "-c", "exec " + line],
                              {**env, "PORT": str(port), "WEB_CONNECTIONS": str(args.connections)}, port)
            data = {"event_id": 0, "points": [{"id": i + 1, "api_token": ""} for i in range(n_points)],
                    "point_ids": [i + 1 for i in range(n_points)], "attendee_ids": list(range(1, roster + 1)),
                    "directory": "-"}
            cookie = ""
        else:
            if scaled:
                db_url = reset_pg(PG_DB)
                flush_redis()
            else:
                db_url = f"sqlite:///{workdir}/{mode}.db"
            t = time.time()
            data = prepare(db_url, roster, password, national=args.national, host_pages=args.host_pages > 0,
                           workdir=workdir)
            log(f"  data ready in {time.time() - t:.0f} s: {len(data['point_ids'])} points, "
                f"{len(data['attendee_ids'])} attendees ({data['directory']})")
            env = {"SECRET_KEY": secret, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
            if scaled:
                env.update({"LAUNCH_CONFIG": "production", "REDIS_URL": REDIS, "PROXY_FIX": "0",
                            "WEB_CONNECTIONS": str(args.connections)})
                for n in range(1 if mode == "scaled1" else 2):
                    port = free_port()
                    servers.start(f"web{n + 1}", ["bash", "-c", "exec " + procfile_line("web")],
                                  {**env, "PORT": str(port)}, port)
                servers.start("scheduler", ["bash", "-c", "exec " + procfile_line("scheduler")], env)
            else:
                port = free_port()  # as `make run`: python app.py, SQLite, the scheduler in-process
                servers.start("app", [PY, "app.py"], {**env, "LAUNCH_CONFIG": "development", "PORT": str(port),
                                                      "SCHEDULER_ENABLED": "1"}, port)
        servers.wait_ready()
        if not bare:
            cookie = login_cookie(servers.urls[0], "bench-viewer", password)
            if args.pages:
                result["pages"] = time_pages(servers.urls[0], login_cookie(servers.urls[0], "bench-operator", password),
                                             data["event_id"], password, len(data["point_ids"]))
                log(f"  pages: {result['pages']}")
        ids = data["attendee_ids"]
        points = data["points"]
        next_k = 0
        count_at: Counter = Counter()  # accepted check-ins per point index, in send order
        index_of = {pid: i for i, pid in enumerate(data["point_ids"])}
        scanners = [gens.start("scanners", {"urls": servers.urls, "points": points, "kind": "bare" if bare else "app",
                                            "concurrency": args.concurrency}, f"{mode}-scanners{i + 1}")
                    for i in range(args.scanner_procs)]

        def post_step(rate: float, count: int) -> tuple[list[list[Any]], float]:
            nonlocal next_k
            t0 = time.time() + 0.3
            items = plan_items(ids, next_k, count, len(points), rate, t0)
            next_k += count
            rows = [r for reply in gens.ask(scanners, [{"cmd": "run", "items": part}
                                                       for part in split(items, len(scanners))])
                    for r in reply["rows"]]
            return rows, t0

        # Calibration: no viewer connected, so the CPU is the check-in path (+ the wall's flushes), no fan-out.
        warm, _t = post_step(20, WARMUP * len(servers.urls))  # first requests compile and connect: not measured
        for r in sorted((r for r in warm if accepted(r)), key=lambda r: r[3]):
            count_at[index_of[r[1]]] += 1
        time.sleep(1.0)
        if calib_n:
            cpu0 = servers.cpu()
            pg0 = pg.sample() if pg else {}
            rows, t0 = post_step(args.calib_rate, calib_n)
            time.sleep(1.0)  # the last flush
            cpu1 = servers.cpu()
            ok = [r for r in rows if accepted(r)]
            for r in sorted(ok, key=lambda r: r[3]):
                count_at[index_of[r[1]]] += 1
            cpu_ms = sum(cpu1.values()) - sum(cpu0.values())
            result["calibration"] = {
                "rate": args.calib_rate, "sent": len(rows), "accepted": len(ok),
                "cpu_ms_per_checkin": round(1000 * cpu_ms / max(1, len(ok)), 2),
                "cpu_ms_per_checkin_by_process": {k: round(1000 * (cpu1[k] - cpu0.get(k, 0)) / max(1, len(ok)), 2)
                                                  for k in cpu1},
                "http_p50": pct([(r[4] - r[3]) * 1000 for r in rows], 50),
                "http_p99": pct([(r[4] - r[3]) * 1000 for r in rows], 99),
            }
            if pg:
                result["calibration"]["pg_cpu_ms_per_checkin"] = round(
                    1000 * PgBackends.delta(pg0, pg.sample()) / max(1, len(ok)), 2)
            log(f"  calibration, no viewers: {result['calibration']}")

        # The viewers. At a national launch the whole wall shows a tile per province, not points: each
        # viewer watches one province's wall of points (spread over the provinces), and times the
        # check-ins of that province's points only.
        view_groups = (sorted({g for g, pid in zip(data["point_groups"], data["point_ids"], strict=True)
                               if g and pid in {p["id"] for p in points}})
                       if args.national and not bare else None)
        procs_n = args.socket_procs or max(2, math.ceil(sockets / 250))
        host_pages = [{"id": p["id"], "token": p["token"]} for p in points[:args.host_pages]] if not bare else []
        for i in range(procs_n):
            gens.start("sockets", {"urls": servers.urls, "kind": "bare" if bare else "wall",
                                   "event_id": data["event_id"], "point_ids": data["point_ids"],
                                   "point_groups": data.get("point_groups"), "view_groups": view_groups,
                                   "viewer_numbers": list(range(i, sockets, procs_n)),
                                   "host_pages": host_pages[i::procs_n], "cookie": cookie, "user_agent": BENCH_UA,
                                   "seed": i}, f"{mode}-sockets{i + 1}")
        socks = gens.of("sockets")
        t = time.time()
        conn = gens.ask(socks, {"cmd": "connect", "timeout": args.connect_timeout, "total": args.connect_timeout})
        ready = sum(c["ready"] for c in conn)
        result["connect"] = {"viewers": sockets, "ready": ready, "seconds": round(time.time() - t, 1),
                             "host_pages": len(host_pages), "host_pages_ready": sum(c["pages_ready"] for c in conn)}
        log(f"  {ready}/{sockets} viewers showing the wall after {time.time() - t:.1f} s")
        rss = RssSampler(servers)
        rss.start()
        profiler = Profiler(servers, mode, workdir) if args.profile else None
        time.sleep(1.0)

        for rate in args.rates:
            count = int(rate * args.step_seconds)
            rss.take()
            marks = gens.ask(socks, {"cmd": "mark"})
            cpu0, gen0, pg0, w0 = servers.cpu(), gens.cpu(), (pg.sample() if pg else {}), time.time()
            rows, t0 = post_step(rate, count)
            last_answer = max(r[4] for r in rows)
            ok = sorted((r for r in rows if accepted(r)), key=lambda r: r[3])
            pairs = []
            for r in ok:
                index = index_of[r[1]]
                count_at[index] += 1
                pairs.append([index, count_at[index], r[3]])
            measured = gens.ask(socks, {"cmd": "measure", "pairs": pairs, "deadline": last_answer + args.settle})
            w1 = max(m["complete_at"] for m in measured)
            cpu1, gen1 = servers.cpu(), gens.cpu()
            pg_cpu = PgBackends.delta(pg0, pg.sample()) if pg else None
            step = analyse_step(rate, count, rows, ok, measured, marks, cpu0, cpu1, gen1 - gen0, pg_cpu,
                                w1 - w0, sockets, rss.take(), args)
            result["steps"].append(step)
            log(step_line(mode, step))
            if step["broken"]:
                break
            time.sleep(1.0)
        if profiler:
            result["profile"] = profiler.stop()

        if do_burst:
            result["burst"] = run_burst(args, gens, scanners, socks, ids, next_k, len(points), db_url, data, rss)
            next_k += args.burst
        rss.running = False
        result["peak_rss_mb"] = rss.overall or None
        final = gens.ask(socks, {"cmd": "stats"})
        result["viewer_stats"] = dict(sum_stats(final))
        gens.stop()
        gens.procs.clear()
        result["seconds"] = round(time.time() - started)
        return result
    finally:
        gens.stop()
        servers.stop()


def run_burst(args: argparse.Namespace, gens: Generators, scanners: list[subprocess.Popen],
              socks: list[subprocess.Popen], ids: list[int], start: int, n_points: int, db_url: str | None,
              data: dict[str, Any], rss: RssSampler) -> dict[str, Any]:
    """The integrity burst: lost and double-counted check-ins, and whether every wall converged."""
    items = [[ids[k], k % n_points, (1 if (k - start) % 40 == 0 else 2) if (k - start) % 20 == 0 else 0]
             for k in range(start, start + args.burst)]
    log(f"  burst of {len(items)} scans ({sum(1 for i in items if i[2])} sent twice with the same client id), "
        f"{args.burst_concurrency} in flight, the viewers watching")
    rss.take()
    t = time.time()
    replies = gens.ask(scanners, [{"cmd": "burst", "items": part, "concurrency": max(1, args.burst_concurrency
                                                                                     // len(scanners))}
                                  for part in split(items, len(scanners))])
    seconds = time.time() - t
    rows = [r for reply in replies for r in reply["rows"]]
    time.sleep(2.0)
    db = db_checkins(db_url, data["event_id"])
    answered_ok = {r[0] for r in rows if r[5] == 200 and r[6] == "checked_in"}
    retries = [r for r in rows if r[9] == "retry"]
    lost = len(answered_ok - db["ids"])
    doubled = db["rows"] - db["distinct"]
    totals = gens.ask(socks, {"cmd": "totals", "expect": db["rows"], "deadline": time.time() + args.settle + 5})
    shown = [s for t_ in totals for s in t_["shown"]]
    out = {"sent": len(rows), "scans": len(items), "retries": len(retries),
           "retries_answered_same": sum(1 for r in retries if r[5] == 200 and r[6] == "checked_in"),
           "seconds": round(seconds, 1), "rate": round(len(items) / seconds, 1),
           "http_p50": pct([(r[4] - r[3]) * 1000 for r in rows], 50),
           "http_p99": pct([(r[4] - r[3]) * 1000 for r in rows], 99),
           "errors": sum(1 for r in rows if not (r[5] == 200 and r[6] == "checked_in")),
           "error_codes": dict(Counter(str(r[6]) for r in rows if not (r[5] == 200 and r[6] == "checked_in"))),
           "answered_ok": len(answered_ok), "db_rows": db["rows"], "db_distinct": db["distinct"],
           "lost": lost, "double_counted": doubled,
           "recorded_without_ok_answer": len(db["ids"] - answered_ok - {ids[k] for k in range(0, start)}),
           "viewers_matching_db": sum(1 for s in shown if s == db["rows"]), "viewers": len(shown),
           "peak_rss_mb": rss.take()}
    log(f"  burst: {out['rate']}/s, lost {lost}, double-counted {doubled}, "
        f"{out['viewers_matching_db']}/{out['viewers']} walls match the database")
    return out


def analyse_step(rate: float, count: int, rows: list[list[Any]], ok: list[list[Any]], measured: list[dict[str, Any]],
                 marks: list[dict[str, Any]], cpu0: dict[str, float], cpu1: dict[str, float], gen_cpu: float,
                 pg_cpu: float | None, seconds: float, sockets: int, peak_rss: dict[str, float],
                 args: argparse.Namespace) -> dict[str, Any]:
    """One step's figures and verdict."""
    # From the send (before waiting for a pooled connection: a slow server's queue counts against it); the
    # generator's own lateness (send - due: its event loop or the machine's cores were busy) is reported apart.
    http = [(r[4] - r[3]) * 1000 for r in rows]
    lag = [(r[3] - r[2]) * 1000 for r in rows]
    window = max(r[4] for r in rows) - min(r[3] for r in rows)
    achieved = len(ok) / max(window, 1e-9)
    hist: dict[int, int] = {}
    unseen = 0
    for m in measured:
        merge_hist(hist, m["hist"])
        unseen += m["unseen"]
    before, after = sum_stats(marks), sum_stats(measured)
    d = {k: after[k] - before[k] for k in after}
    cpu_s = sum(cpu1.values()) - sum(cpu0.values())
    step = {
        "offered": rate, "sent": len(rows), "accepted": len(ok), "achieved": round(achieved, 1),
        "errors": len(rows) - len(ok),
        "error_codes": dict(Counter(str(r[6]) for r in rows if not accepted(r))),
        "http_p50": pct(http, 50), "http_p99": pct(http, 99), "client_lag_p99": pct(lag, 99),
        "wall_p50": hist_percentile(hist, unseen, 50), "wall_p99": hist_percentile(hist, unseen, 99),
        "wall_max": hist_percentile(hist, unseen, 100),
        "pairs": sum(hist.values()) + unseen, "pairs_never_shown": unseen,
        "viewers_behind_at_deadline": sum(m["viewers_behind"] for m in measured),
        "cpu_ms_per_checkin": round(1000 * cpu_s / len(ok), 2) if ok else None,
        "server_cores": round(cpu_s / max(seconds, 1e-9), 2),
        "cores_by_process": {k: round((cpu1[k] - cpu0.get(k, 0)) / max(seconds, 1e-9), 2) for k in cpu1},
        "pg_cpu_ms_per_checkin": round(1000 * pg_cpu / len(ok), 2) if pg_cpu is not None and ok else None,
        "generator_cores": round(gen_cpu / max(seconds, 1e-9), 2),
        "bytes_per_viewer_per_checkin": round(d.get("bytes", 0) / (len(ok) * sockets), 1) if ok else None,
        "messages_per_viewer_per_checkin": round(d.get("messages", 0) / (len(ok) * sockets), 3) if ok else None,
        "bytes_per_viewer_per_second": round(d.get("bytes", 0) / sockets / max(seconds, 1e-9)),
        "resyncs": {k[7:]: d.get(k, 0) for k in RESYNC_KEYS if d.get(k)},
        "gaps": d.get("gaps", 0), "snapshots": d.get("snapshots", 0), "reconnects": d.get("reconnects", 0),
        "disconnects": d.get("disconnects", 0),
        "peak_rss_mb": peak_rss, "seconds": round(seconds, 1),
    }
    reasons = []
    if step["wall_p99"] is None or step["wall_p99"] > args.wall_goal_ms:
        reasons.append(f"wall p99 > {args.wall_goal_ms:g} ms")
    if step["http_p99"] is None or step["http_p99"] > args.http_goal_ms:
        reasons.append(f"HTTP p99 > {args.http_goal_ms:g} ms")
    if achieved < args.min_achieved * rate:
        reasons.append(f"achieved < {args.min_achieved:.0%} of offered")
    if unseen:
        reasons.append(f"{unseen} pairs never shown")
    step["broken"] = reasons
    if step["client_lag_p99"] is not None and step["client_lag_p99"] > args.http_goal_ms:
        step["note"] = (f"the scanners sent late (p99 {step['client_lag_p99']:.0f} ms after due): the machine's "
                        "cores were short; the step's figures include that")
    return step


# --- output -------------------------------------------------------------------------------------

def fmt(v: Any, digits: int = 0) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "never"
        if digits == 0 and abs(v) >= 10:
            return f"{v:,.0f}"
        return f"{v:,.{max(digits, 1)}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def step_line(mode: str, s: dict[str, Any]) -> str:
    return (f"  {mode} {s['offered']}/s: achieved {fmt(s['achieved'])}, HTTP p50/p99 {fmt(s['http_p50'])}/"
            f"{fmt(s['http_p99'])} ms, wall p50/p99 {fmt(s['wall_p50'])}/{fmt(s['wall_p99'])} ms "
            f"({s['pairs_never_shown']} of {s['pairs']} pairs never shown), {fmt(s['cpu_ms_per_checkin'], 1)} ms CPU"
            f"/check-in, {fmt(s['bytes_per_viewer_per_checkin'])} B/viewer/check-in, resyncs {s['resyncs'] or 0}, "
            f"gaps {s['gaps']}, generators {s['generator_cores']} cores"
            + (f"  BROKEN: {'; '.join(s['broken'])}" if s["broken"] else ""))


def held(res: dict[str, Any]) -> float | None:
    """The highest offered rate of the steps before the first broken one."""
    best = None
    for s in res.get("steps", []):
        if s["broken"]:
            break
        best = s["offered"]
    return best


def rss_text(peak: dict[str, float] | None) -> str:
    if not peak:
        return "-"
    return ", ".join(f"{k} {v:.0f}" for k, v in peak.items())


def label_of(res: dict[str, Any], args: argparse.Namespace) -> str:
    return res["label"] + (f" #{res.get('round', 1)}" if args.repeat > 1 else "")


def median_or_none(values: list[Any]) -> Any:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def tables(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The markdown report: every step of every mode, a summary per mode, the goals."""
    out = ["| mode | sockets | offered/s | achieved/s | HTTP p50 / p99 ms | scan->wall p50 / p99 ms | pairs never "
           "shown | server CPU ms/check-in (cores) | bytes/viewer/check-in | resyncs / gaps | peak RSS MB | "
           "generators: cores, lag p99 ms | verdict |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for res in results:
        if res.get("skipped"):
            out.append(f"| {label_of(res, args)} | - | - | - | - | - | - | - | - | - | - | - | "
                       f"skipped: {res['skipped']} |")
            continue
        for n, s in enumerate(res["steps"]):
            resyncs = sum(s["resyncs"].values())
            out.append(
                f"| {label_of(res, args) if n == 0 else ''} | {res['sockets'] if n == 0 else ''} | {s['offered']} | "
                f"{fmt(s['achieved'])} | {fmt(s['http_p50'])} / {fmt(s['http_p99'])} | "
                f"{fmt(s['wall_p50'])} / {fmt(s['wall_p99'])} | {fmt(s['pairs_never_shown'])} of {fmt(s['pairs'])} | "
                f"{fmt(s['cpu_ms_per_checkin'], 1)} ({s['server_cores']}) | {fmt(s['bytes_per_viewer_per_checkin'])} | "
                f"{resyncs} / {s['gaps']} | {rss_text(s['peak_rss_mb'])} | {s['generator_cores']}, "
                f"{fmt(s['client_lag_p99'])}{' (late)' if s.get('note') else ''} | "
                f"{'broken: ' + '; '.join(s['broken']) if s['broken'] else 'holds'} |")
    out += ["", "| mode | holds up to (check-ins/s) | CPU ms/check-in, no viewers | burst: rate, lost, doubled, walls "
            "= database | peak RSS MB per process | viewers: resyncs (by reason) / gaps / reconnects |",
            "|---|---|---|---|---|---|"]
    for res in results:
        if res.get("skipped"):
            continue
        h = held(res)
        first = res["steps"][0]["offered"] if res["steps"] else None
        b = res.get("burst")
        burst = (f"{b['rate']}/s, {b['lost']} lost, {b['double_counted']} doubled, {b['viewers_matching_db']}/"
                 f"{b['viewers']}" if b else "-")
        v = res.get("viewer_stats", {})
        reasons = {k[7:]: v[k] for k in RESYNC_KEYS if v.get(k)}
        if h is not None and len(res["steps"]) == len(args.rates) and not res["steps"][-1]["broken"]:
            h = f"{fmt(h)} (the highest offered: never broke)"
        out.append(f"| {label_of(res, args)} | {fmt(h) if h is not None else f'below {first}'} | "
                   f"{fmt(res.get('calibration', {}).get('cpu_ms_per_checkin'), 2)} | {burst} | "
                   f"{rss_text(res.get('peak_rss_mb'))} | {sum(reasons.values())}"
                   f"{' (' + ', '.join(f'{k} {n}' for k, n in reasons.items()) + ')' if reasons else ''}"
                   f" / {v.get('gaps', 0)} / {v.get('reconnects', 0)} |")
    pages = [(res, res["pages"]) for res in results if res.get("pages")]
    if pages:
        out += ["", "| mode | QR sheet of the points, first / cached s | wall snapshot over HTTP p50 ms (bytes) | "
                "wall page first render, every tile, ms (Chromium) |", "|---|---|---|---|"]
        for res, p in pages:
            out.append(f"| {label_of(res, args)} | {fmt(p['qr_sheet_s_cold'], 2)} / {fmt(p['qr_sheet_s_warm'], 3)} | "
                       f"{fmt(p['snapshot_http_ms_p50'])} ({fmt(p['snapshot_bytes'])}) | {p['wall_first_render_ms']} |")
    out += ["", goals(results, args)]
    profiles = [(res, name, prof) for res in results for name, prof in (res.get("profile") or {}).items()
                if prof.get("busy_samples")]
    if profiles:
        out += ["", "Where the time goes (py-spy during the steps, busy samples only; % of the process's samples):"]
        for res, name, prof in profiles:
            own = "; ".join(f"{f} {p}%" for f, p in prof["own"][:5])
            inclusive = "; ".join(f"{f} {p}%" for f, p in prof["inclusive"][:6])
            out.append(f"- {label_of(res, args)}, {name} ({prof['busy_samples']} samples): including callees: "
                       f"{inclusive}. Own time: {own}")
    return "\n".join(out)


def goals(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The issue's goals against this run's figures (medians over the rounds with --repeat)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if not r.get("skipped"):
            by.setdefault(r["mode"], []).append(r)
    rounds = f" (median of {args.repeat} rounds)" if args.repeat > 1 else ""
    lines = [f"Against the goals (this run{rounds}):"]

    def rate_of(mode: str) -> float | None:
        if mode not in by:
            return None
        return median_or_none([held(r) or 0 for r in by[mode]]) or None

    emb = rate_of("embedded")
    if "embedded" in by:
        lines.append(f"- embedded >= 500 check-ins/s within the step goals: held {fmt(emb) if emb else 'no step'}"
                     f" -> {'met' if emb and emb >= 500 else 'missed'}")
        for base, factor in (("bare-emit", 10), ("bare-batch", 6)):
            b = rate_of(base)
            if base in by:
                lines.append(f"- embedded >= {factor}x {LABELS[base]} (held {fmt(b) if b else 'no step'}): "
                             + (f"{emb / b:.1f}x" if emb and b else "n/a"))
        cal = median_or_none([r.get("calibration", {}).get("cpu_ms_per_checkin") for r in by["embedded"]])
        lines.append(f"- embedded CPU per check-in without fan-out <= 2 ms: {fmt(cal, 2)} ms -> "
                     f"{'met' if cal is not None and cal <= 2 else 'missed'}")
        per = median_or_none([s["bytes_per_viewer_per_checkin"] for r in by["embedded"] for s in r["steps"]
                              if s["offered"] == 100])
        if per is not None:
            verdict = "met" if per <= 200 else "missed"
            lines.append(f"- bytes per viewer per check-in at 100/s <= 200: {fmt(per)} -> {verdict}")
    if "scaled1" in by and "scaled2" in by:
        one, two = rate_of("scaled1"), rate_of("scaled2")
        lines.append(f"- 2 web processes >= 1.7x one (same step goals): {fmt(two) if two else 'no step'} vs "
                     f"{fmt(one) if one else 'no step'} -> " + (f"{two / one:.2f}x" if one and two else "n/a"))
    if "scaled2" in by:
        bests = []
        for s2 in by["scaled2"]:
            ok400 = [s["offered"] for s in s2["steps"] if s["wall_p99"] is not None and s["wall_p99"] <= 400
                     and s["http_p99"] is not None and s["http_p99"] <= args.http_goal_ms
                     and s["achieved"] >= args.min_achieved * s["offered"] and not s["pairs_never_shown"]]
            bests.append(max(ok400) if ok400 else 0)
        best = median_or_none(bests) or None
        lines.append(f"- scaled out ({args.scaled_sockets} sockets) >= 400/s within wall p99 <= 400 ms: highest step "
                     f"{fmt(best) if best else 'none'} -> {'met' if best and best >= 400 else 'missed'}")
        peak = median_or_none([max((v for k, v in (r.get("peak_rss_mb") or {}).items() if k.startswith("web")),
                                   default=None) for r in by["scaled2"]])
        lines.append(f"- RSS <= 150 MB per web process with {args.scaled_sockets} sockets: {fmt(peak)} MB -> "
                     f"{'met' if peak and peak <= 150 else 'missed'}")
    for mode in ("embedded", "scaled2", "scaled1"):
        for r in by.get(mode, []):
            b = r.get("burst")
            if b:
                lines.append(f"- burst ({label_of(r, args)}): {b['scans']:,} scans + {b['retries']:,} same-id "
                             f"retries, {b['lost']} lost, {b['double_counted']} double-counted -> "
                             f"{'met' if not b['lost'] and not b['double_counted'] else 'MISSED'}")
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default=",".join(ALL_MODES), help="comma-separated, from: " + ", ".join(ALL_MODES))
    parser.add_argument("--rates", default="10,25,50,100,200,300,400,500,600,800", help="offered check-ins/s, stepped")
    parser.add_argument("--step-seconds", type=float, default=10)
    parser.add_argument("--settle", type=float, default=10,
                        help="after a step's last answer, how long viewers may take before a pair is never shown")
    parser.add_argument("--sockets", type=int, default=None, help="wall viewers: embedded and bare (default 300)")
    parser.add_argument("--scaled-sockets", type=int, default=None, help="wall viewers when scaled out (default 500)")
    parser.add_argument("--connect-timeout", type=float, default=120,
                        help="how long the viewers may take to sign in and show the wall before the steps start "
                             "(the late ones keep trying and count as not showing what they miss)")
    parser.add_argument("--host-pages", type=int, default=0, help="point host pages (presence heartbeats) besides")
    parser.add_argument("--wall-goal-ms", type=float, default=300)
    parser.add_argument("--http-goal-ms", type=float, default=50)
    parser.add_argument("--min-achieved", type=float, default=0.95)
    parser.add_argument("--calib-rate", type=float, default=50, help="check-ins/s of the no-viewer calibration")
    parser.add_argument("--calib-seconds", type=float, default=6)
    parser.add_argument("--burst", type=int, default=20000)
    parser.add_argument("--burst-modes", default="embedded,scaled2")
    parser.add_argument("--burst-concurrency", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=256, help="requests in flight per scanner process")
    parser.add_argument("--scanner-procs", type=int, default=2)
    parser.add_argument("--socket-procs", type=int, default=0, help="viewer processes (default: one per 250, >= 2)")
    parser.add_argument("--connections", type=int, default=2000, help="WEB_CONNECTIONS of the gevent workers")
    parser.add_argument("--national", action="store_true", help="3,356 points and 1,000 sockets")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short steps, 30 sockets, small burst")
    parser.add_argument("--pages", action=argparse.BooleanOptionalAction, default=True,
                        help="time the QR sheet, the snapshot over HTTP and the wall's first render (--no-pages: skip)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy every server process during the steps; top frames in the JSON and the log dir")
    parser.add_argument("--nice", type=int, default=0,
                        help="niceness of every server and generator process (e.g. -5 on a machine shared with "
                             "other work, so that it disturbs the figures less; negative needs root)")
    parser.add_argument("--repeat", type=int, default=1, help="run every mode this many times (rounds, interleaved)")
    parser.add_argument("--json", help="write the results here too (always written to bench-results/)")
    if "--quick" in (sys.argv[1:] if argv is None else argv):  # presets; flags given explicitly still win
        parser.set_defaults(rates="10,25", step_seconds=3, burst=300, settle=5, calib_rate=20, calib_seconds=2,
                            pages=False, sockets=30, scaled_sockets=30)
    args = parser.parse_args(argv)
    big = 1000 if args.national else None
    args.sockets = args.sockets or big or 300
    args.scaled_sockets = args.scaled_sockets or big or 500
    args.rates = [float(r) if "." in r else int(r) for r in str(args.rates).split(",")]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.burst_modes = {m.strip() for m in args.burst_modes.split(",")}
    unknown = [m for m in args.modes if m not in ALL_MODES]
    if unknown:
        parser.error(f"unknown mode(s) {unknown}; choose from {', '.join(ALL_MODES)}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    NICE["value"] = args.nice
    workdir = Path(tempfile.mkdtemp(prefix="launch-bench-"))
    command = "bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    started = datetime.now(UTC)
    machine = {"cpus": os.cpu_count(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
               "python": platform.python_version(), "platform": platform.platform()}
    log(f"{command}\nlogs, raw configs and profiles: {workdir}\nmachine: {machine}")
    missing = pg_available() if any(m.startswith("scaled") for m in args.modes) else None
    results = []
    for round_ in range(1, args.repeat + 1):
        for mode in args.modes:
            if mode.startswith("scaled") and missing:
                log(f"== {mode}: skipped ({missing})")
                results.append({"mode": mode, "label": LABELS[mode], "skipped": missing, "round": round_})
                continue
            sockets = args.scaled_sockets if mode.startswith("scaled") else args.sockets
            log(f"== {mode} ({LABELS[mode]}), round {round_}/{args.repeat}: {sockets} sockets, "
                f"rates {args.rates}/s x {args.step_seconds:g} s, load average {os.getloadavg()[0]:.2f}")
            try:
                results.append({**run_mode(mode, args, workdir), "round": round_})
            except Exception as exc:  # one mode failing must not lose the others' figures
                log(f"  {mode} FAILED: {exc!r}")
                results.append({"mode": mode, "label": LABELS[mode], "skipped": f"failed: {exc}"[:200],
                                "round": round_})
    report = tables(results, args)
    log("\n" + report)
    out = {"command": command, "started": started.isoformat(), "machine": machine,
           "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
           "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
           "workdir": str(workdir), "results": results, "report": report}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{started:%Y%m%d-%H%M%S}.json"
    text = json.dumps(out, indent=1, default=str).replace("Infinity", '"inf"')
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    if args.json:
        Path(args.json).write_text(text)
    log(f"\nresults: {path}")
    return out


if __name__ == "__main__":
    main()
