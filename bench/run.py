"""The benchmark: starts the app itself, drives it from separate processes on loopback, prints one table.

    make bench                         # embedded, scaled out and baseline, default steps
    make bench BENCH_ARGS="--quick"    # a short smoke run (small steps, small burst)
    .venv/bin/python bench/run.py --modes embedded --rates 100,300,500 --sockets 300

Per step it reports offered and achieved check-ins/s, HTTP p50/p99, scan->wall p50/p99 (from the
POST to the moment a measuring wall client sees that check-in), lost and double-counted check-ins
(checked against the database at the end) and server RSS. It also times the QR sheet of 186 codes,
the wall snapshot of 187 tiles and the wall page's first render (Chromium, when installed).

Scan->wall for the app is measured by counts: the j-th accepted check-in at a point (in send order)
is seen when a viewer's tile for that point first shows >= j attendees. Against the baseline,
which emits one message per check-in carrying the attendee id, it is measured per id.
Everything runs on this machine: the load generators share its 2 cores with the servers.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/7"
BENCH_UA = "launch-bench/1.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


# --- data ---------------------------------------------------------------------------------------

def prepare(db_url: str, attendees: int, viewer_password: str) -> dict[str, Any]:
    """Schema (migrations), directory, a live 187-point event, one host + API token per point, a roster."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from launch import create_app
    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import Attendee, Event, EventPoint, Unit
    from launch.services.api_tokens import create_api_token
    from launch.services.directory import import_bundled_directory
    from launch.services.tokens import site_token
    from launch.services.users import create_user

    app = create_app("development", SQLALCHEMY_DATABASE_URI=db_url, SCHEDULER_ENABLED=False,
                     PASSWORD_HASH_METHOD="pbkdf2:sha256:1000", SECRET_KEY=os.environ["SECRET_KEY"])
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        import_bundled_directory()
        create_user("bench-viewer", viewer_password, "operator")
        now = utcnow()
        province = db.session.scalar(select(Unit).where(Unit.level == "province"))
        event = Event(title="Benchmark launch", start_dt=now - timedelta(minutes=5), end_dt=now + timedelta(hours=6),
                      state="live", host_unit=province)
        db.session.add(event)
        db.session.add(EventPoint(event=event, unit=province, is_host=True, expected_attendance=100))
        units = list(db.session.scalars(select(Unit).where(Unit.level != "province").order_by(Unit.code)))
        points = [EventPoint(event=event, unit=u, expected_attendance=150) for u in units]
        db.session.add_all(points)
        db.session.commit()
        out_points = []
        for point in points:
            host = create_user(f"bench-host-{point.unit.code}", secrets.token_hex(8), "host",
                               unit_codes=[point.unit.code])
            _token, secret = create_api_token(host, "benchmark scanner")
            out_points.append({"id": point.id, "token": site_token(point), "api_token": secret})
        rows = [{"event_id": event.id, "unit_id": units[i % len(units)].id, "full_name": f"Người tham dự {i}",
                 "search_name": f"nguoi tham du {i}", "badge_code": secrets.token_hex(8)} for i in range(attendees)]
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Attendee), rows[start:start + 5000])
        db.session.commit()
        first = db.session.scalar(select(Attendee.id).where(Attendee.event_id == event.id).order_by(Attendee.id))
        event_id = event.id
        db.engine.dispose()
    return {"event_id": event_id, "points": out_points, "first_attendee": first}


def count_checkins(db_url: str, event_id: int) -> dict[str, int]:
    """Rows and distinct attendees checked in, read from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows, distinct = conn.execute(text(
            "SELECT COUNT(*), COUNT(DISTINCT attendee_id) FROM attendee_checkins WHERE event_id = :e"),
            {"e": event_id}).one()
    engine.dispose()
    return {"rows": rows, "distinct": distinct}


def reset_pg(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


# --- servers ------------------------------------------------------------------------------------

class Servers:
    """The processes under test, their URLs, and their RSS."""

    def __init__(self, workdir: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.web: list[psutil.Process] = []
        self.urls: list[str] = []
        self.workdir = workdir

    def start(self, cmd: list[str], env: dict[str, str], name: str, port: int | None = None) -> None:
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        if port is not None:
            self.urls.append(f"http://127.0.0.1:{port}")
            self.web.append(psutil.Process(proc.pid))

    def wait_ready(self, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.time() + timeout
        for url in self.urls:
            while True:
                try:
                    if requests.get(url + path, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.time() > deadline:
                    raise RuntimeError(f"{url} did not start; see logs in {self.workdir}")
                time.sleep(0.3)

    def rss_mb(self) -> list[float]:
        out = []
        for proc in self.web:
            try:
                total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.NoSuchProcess:
                total = 0
            out.append(round(total / 2**20, 1))
        return out

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def start_profilers(servers: Servers, args: argparse.Namespace, start_at: float, mode: str,
                    workdir: Path) -> list[subprocess.Popen]:
    """py-spy on every server process during the stepped load (not the burst): collapsed stacks.

    Read them with e.g. `sort -t' ' -k2 -nr FILE | head`, or load them in speedscope.app.
    """
    spy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    seconds = int(len(args.rates) * (args.step_seconds + 1.5)) + 2
    out = []
    for n, proc in enumerate(servers.procs):
        target = f"{workdir}/{mode}-proc{n + 1}.collapsed.txt"
        cmd = [spy, "record", "--pid", str(proc.pid), "--subprocesses", "--rate", "100", "--duration", str(seconds),
               "--format", "raw", "--output", target]
        delay = max(0.0, start_at - time.time())
        out.append(subprocess.Popen(["bash", "-c", f"sleep {delay:.2f}; exec " + " ".join(cmd)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        print(f"profiling {mode} process {n + 1} (pid {proc.pid}) into {target}")
    return out


def login_cookie(url: str, username: str, password: str) -> str:
    """Sign in through the real form (CSRF included); return the session cookie header.

    Cookies are carried by hand: production marks them Secure, which a client over plain
    http on loopback would otherwise not send back.
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


# --- one mode -----------------------------------------------------------------------------------

def run_mode(mode: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start `mode`'s servers, run the load, return the figures."""
    secret = secrets.token_hex(32)
    os.environ["SECRET_KEY"] = secret
    password = secrets.token_hex(12)
    args.viewer_password = password
    servers = Servers(workdir)
    attendees = sum(int(r * args.step_seconds) for r in args.rates) + args.burst + 100
    db_url = None
    data: dict[str, Any] = {}
    try:
        if mode == "baseline":
            port = free_port()
            servers.start([PY, "bench/baseline_app.py", str(port)], {"BASELINE_DB": str(workdir / "baseline.db")},
                          "baseline", port)
            servers.wait_ready("/count")
            data = {"event_id": 0, "points": [{"id": i, "token": "", "api_token": ""} for i in range(1, 187)],
                    "first_attendee": 1}
            cookie = ""
        else:
            if mode == "embedded":
                db_url = f"sqlite:///{workdir}/embedded.db"
            else:
                db_url = reset_pg("launch_bench")
                subprocess.run(["redis-cli", "-n", REDIS.rsplit("/", 1)[1], "FLUSHDB"], check=False,
                               capture_output=True)
            data = prepare(db_url, attendees, password)
            env = {"SECRET_KEY": secret, "DATABASE_URL": db_url, "LAUNCH_CONFIG": "development",
                   "PYTHONUNBUFFERED": "1"}
            if mode == "embedded":
                port = free_port()
                servers.start([PY, "app.py"], {**env, "PORT": str(port), "SCHEDULER_ENABLED": "1"}, "web", port)
            else:
                env.update({"LAUNCH_CONFIG": "production", "REDIS_URL": REDIS, "PROXY_FIX": "0"})
                procfile = (ROOT / "Procfile").read_text()
                web_cmd = next(line for line in procfile.splitlines() if line.startswith("web:"))[4:].strip()
                for n in range(args.web_processes):
                    port = free_port()
                    cmd = web_cmd.replace("${WEB_CONNECTIONS:-2000}", str(args.connections)).replace(
                        "${BIND_HOST:-127.0.0.1}", "127.0.0.1").replace("$PORT", str(port))
                    servers.start(["bash", "-c", f"exec {ROOT / '.venv' / 'bin'}/{cmd}"], {**env, "PORT": str(port)},
                                  f"web{n + 1}", port)
                servers.start([str(ROOT / ".venv/bin/flask"), "--app", "app.py", "scheduler", "run"], env, "scheduler")
            servers.wait_ready()
            cookie = login_cookie(servers.urls[0], "bench-viewer", password)
        timings = {} if mode == "baseline" else time_pages(servers.urls[0], cookie, data["event_id"], args)
        if mode != "baseline":
            timings["snapshot_187_build_ms_p50"] = time_snapshot_build(db_url, data["event_id"])
        start_at = time.time() + 3  # and the scanners wait until every socket is connected
        burst = 0 if mode == "baseline" else args.burst  # the integrity burst is the app's promise
        duration = len(args.rates) * (args.step_seconds + 1.5) + burst / 20 + 150  # upper bound; stop file ends it
        stop_file = workdir / f"{mode}-stop"
        common = {"urls": servers.urls, "event_id": data["event_id"], "points": data["points"],
                  "baseline": mode == "baseline"}
        hosts = 0 if mode == "baseline" else min(186, args.sockets // 3)
        ready_file = workdir / f"{mode}-sockets-ready"
        sock_cfg = {**common, "viewers": args.sockets - hosts, "hosts": hosts, "cookie": cookie,
                    "stop_file": str(stop_file), "ready_file": str(ready_file),
                    "end_at": start_at + duration, "measuring": args.measuring, "user_agent": BENCH_UA}
        scan_cfg = {**common, "rates": args.rates, "step_seconds": args.step_seconds, "start_at": start_at,
                    "concurrency": args.concurrency, "first_attendee": data["first_attendee"],
                    "burst": burst, "http_p99_goal": 0.05, "ready_file": str(ready_file), "settle": 2.0}
        procs = []
        for role, cfg in (("sockets", sock_cfg), ("scanners", scan_cfg)):
            (workdir / f"{mode}-{role}.json").write_text(json.dumps(cfg))
            procs.append(subprocess.Popen([PY, "-m", "bench.load", role, str(workdir / f"{mode}-{role}.json"),
                                           str(workdir / f"{mode}-{role}-out.json")], cwd=ROOT))
        profilers = start_profilers(servers, args, start_at, mode, workdir) if args.profile else []
        rss_samples: list[list[float]] = []
        while any(p.poll() is None for p in procs):
            rss_samples.append(servers.rss_mb())
            if procs[1].poll() is not None and not stop_file.exists():
                time.sleep(3)  # let the last deltas arrive, then stop the sockets
                stop_file.touch()
            time.sleep(1)
        for prof in profilers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                prof.wait(timeout=30)
        if any(p.returncode for p in procs):
            raise RuntimeError(f"a load generator failed in {mode}")
        sockets_out = json.loads((workdir / f"{mode}-sockets-out.json").read_text())
        scans_out = json.loads((workdir / f"{mode}-scanners-out.json").read_text())
        if mode == "baseline":
            db_counts = requests.get(servers.urls[0] + "/count", timeout=10).json()["rows"]
            counts = {"rows": db_counts[0], "distinct": db_counts[1]}
        else:
            counts = count_checkins(db_url, data["event_id"])
        peak_rss = [max(col) for col in zip(*rss_samples, strict=False)] if rss_samples else []
        return {"mode": mode, "timings": timings,
                **analyse(mode, args, scans_out["rows"], sockets_out, counts, peak_rss)}
    finally:
        servers.stop()


def time_pages(url: str, cookie: str, event_id: int, args: argparse.Namespace) -> dict[str, Any]:
    """QR sheet of 186 codes, the wall snapshot, the wall page's first render."""
    http = requests.Session()
    headers = {"Cookie": cookie, "User-Agent": BENCH_UA}
    out: dict[str, Any] = {}
    sheet = os.environ.get("BENCH_SHEET_PATH", f"/c/events/{event_id}/qr-sheet")
    times = []
    for _ in range(3):
        t = time.perf_counter()
        resp = http.get(url + sheet, headers=headers)
        times.append(time.perf_counter() - t)
        if not resp.ok or "<svg" not in resp.text:
            break
    out["qr_sheet_186_s_cold"] = round(times[0], 3) if resp.ok else f"HTTP {resp.status_code}"
    out["qr_sheet_186_s_warm"] = round(min(times), 3) if resp.ok else f"HTTP {resp.status_code}"
    snap = []
    for _ in range(20):
        t = time.perf_counter()
        resp = http.get(f"{url}/wall/{event_id}/snapshot.json", headers=headers)
        snap.append(time.perf_counter() - t)
    # over HTTP a repeated snapshot is served from the cache while the room's number stands
    out["snapshot_http_cached_ms_p50"] = (round(statistics.median(snap) * 1000, 1) if resp.ok
                                          else f"HTTP {resp.status_code}")
    out["wall_first_render_ms"] = first_render(url, event_id, args.viewer_password)
    return out


def time_snapshot_build(db_url: str, event_id: int) -> float:
    """p50 ms to BUILD the 187-tile snapshot (no cache), in this process against the same database."""
    from launch import create_app
    from launch.extensions import db
    from launch.realtime.snapshots import snapshot

    app = create_app("development", SQLALCHEMY_DATABASE_URI=db_url, SCHEDULER_ENABLED=False,
                     WALL_SNAPSHOT_CACHE_SECONDS=0, SECRET_KEY=os.environ["SECRET_KEY"])
    times = []
    with app.app_context():
        for _ in range(20):
            t = time.perf_counter()
            snap = snapshot(event_id)
            times.append(time.perf_counter() - t)
            db.session.remove()
        assert len(snap["tiles"]) == 187
        db.engine.dispose()
    return round(statistics.median(times) * 1000, 1)


def first_render(url: str, event_id: int, password: str) -> Any:
    """Navigation start -> 187 tiles on screen, in headless Chromium (if installed)."""
    chromium = shutil.which("chromium")
    if not chromium:
        return "no chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=username]", "bench-viewer")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        t = time.perf_counter()
        page.goto(f"{url}/wall/{event_id}")
        try:
            page.locator('[id^="tile-"]').nth(186).wait_for(timeout=20000)  # the 187th tile is on screen
            elapsed = round((time.perf_counter() - t) * 1000)
        except Exception as exc:
            elapsed = f"tiles not found at {page.url}: {str(exc).splitlines()[0][:80]}"
        browser.close()
    return elapsed


def analyse(mode: str, args: argparse.Namespace, rows: list[list[Any]], sockets_out: dict[str, Any],
            counts: dict[str, int], peak_rss: list[float]) -> dict[str, Any]:
    """Per-step rates and percentiles, burst integrity."""
    accepted_codes = {"accepted", "checked_in"}
    by_point: dict[int, list[list[Any]]] = {}
    for row in sorted(rows, key=lambda r: r[3]):
        step, point, attendee, sent, answered, status, code, client_id = row
        if status == 200 and code in accepted_codes:
            by_point.setdefault(point, []).append(row)
    wall_latency: dict[str, float] = {}  # client_id -> seconds (first measuring viewer that saw it, averaged)
    if mode == "baseline":
        sent_by_attendee = {str(r[2]): (r[3], r[7]) for rs in by_point.values() for r in rs}
        for viewer in sockets_out["seen_ids"]:
            for attendee, t in viewer.items():
                if attendee in sent_by_attendee:
                    sent, cid = sent_by_attendee[attendee]
                    wall_latency.setdefault(cid, []).append(t - sent)
    else:
        for point, prs in by_point.items():
            for j, r in enumerate(prs, start=1):
                for viewer in sockets_out["seen"]:
                    bucket = viewer.get(str(point), {})
                    ts = [t for c, t in bucket.items() if int(c) >= j]
                    if ts:
                        wall_latency.setdefault(r[7], []).append(min(ts) - r[3])
    steps = []
    for step, rate in enumerate(args.rates):
        srows = [r for r in rows if r[0] == step]
        if not srows:
            continue  # not run: an earlier step already broke the goal
        ok = [r for r in srows if r[5] == 200 and r[6] in accepted_codes]
        http_ms = [(r[4] - r[3]) * 1000 for r in srows]
        wall_ms = [v * 1000 for r in ok for v in wall_latency.get(r[7], [])]
        window = (max(r[4] for r in srows) - min(r[3] for r in srows)) if srows else 1
        steps.append({
            "offered": rate, "achieved": round(len(ok) / max(window, 1e-9), 1), "sent": len(srows),
            "errors": len(srows) - len(ok), "http_p50": pct(http_ms, 50), "http_p99": pct(http_ms, 99),
            "wall_p50": pct(wall_ms, 50), "wall_p99": pct(wall_ms, 99),
            "wall_seen": f"{len({r[7] for r in ok if r[7] in wall_latency})}/{len(ok)}",
        })
    accepted_ids = {r[2] for r in rows if r[5] == 200 and r[6] in accepted_codes}
    replays = [r for r in rows if r[0] == -2]
    burst_rows = [r for r in rows if r[0] == -1]
    burst_ok = {r[2] for r in burst_rows if r[5] == 200 and r[6] in accepted_codes}
    return {
        "steps": steps,
        "sockets": sockets_out["stats"],
        "peak_rss_mb": peak_rss,
        "burst": {"sent": len(burst_rows), "accepted": len(burst_ok),
                  "seconds": round(max(r[4] for r in burst_rows) - min(r[3] for r in burst_rows), 1)
                  if burst_rows else 0,
                  "answered_errors": len(burst_rows) - len(burst_ok),
                  "retries_sent": len(replays),
                  "retries_answered_replayed": sum(1 for r in replays if r[6] in ("accepted", "replayed")
                                                   or r[5] == 200)},
        "integrity": {"accepted_answers": len(accepted_ids), "db_rows": counts["rows"],
                      "db_distinct_attendees": counts["distinct"],
                      "lost": max(0, len(accepted_ids) - counts["distinct"]),
                      "double_counted": counts["rows"] - counts["distinct"]},
    }


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.0f}" if v >= 10 else f"{v:.1f}"
    return str(v)


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print("mode      offered  achieved  http_p50  http_p99  wall_p50  wall_p99  wall_seen      errors  peak_RSS_MB")
    for res in results:
        for s in res["steps"]:
            print(f"{res['mode']:9} {s['offered']:7} {fmt(s['achieved']):>9} {fmt(s['http_p50']):>9} "
                  f"{fmt(s['http_p99']):>9} {fmt(s['wall_p50']):>9} {fmt(s['wall_p99']):>9}  {s['wall_seen']:>12} "
                  f"{s['errors']:>7}  {res['peak_rss_mb']}")
    print()
    for res in results:
        i, b = res["integrity"], res["burst"]
        print(f"{res['mode']}: burst sent={b['sent']} in {b['seconds']}s accepted={b['accepted']} "
              f"errors={b['answered_errors']} "
              f"retries={b['retries_sent']}; accepted answers={i['accepted_answers']} db rows={i['db_rows']} "
              f"lost={i['lost']} double-counted={i['double_counted']}; sockets={res['sockets']}")
        if res.get("timings"):
            print(f"{res['mode']}: timings {res['timings']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="baseline,embedded,scaled")
    parser.add_argument("--rates", default="100,200,300,500,700")
    parser.add_argument("--step-seconds", type=float, default=8)
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--scaled-sockets", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--burst", type=int, default=20000)
    parser.add_argument("--measuring", type=int, default=8, help="viewers that record arrival times")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2000, help="gunicorn --worker-connections (scaled)")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy each server process during the steps (collapsed stacks in the log dir)")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.step_seconds, args.sockets, args.scaled_sockets, args.burst = "50,100", 4, 40, 60, 500
    args.rates = [int(r) for r in str(args.rates).split(",")]
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="launch-bench-"))
    print(f"logs and raw data: {workdir}")
    base_sockets = args.sockets
    for mode in args.modes.split(","):
        args.sockets = args.scaled_sockets if mode == "scaled" else base_sockets
        print(f"== {mode}: {args.sockets} sockets, rates {args.rates}/s x {args.step_seconds}s, burst {args.burst}",
              flush=True)
        results.append(run_mode(mode, args, workdir))
        print_table(results[-1:])
    print("\n==== summary")
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
