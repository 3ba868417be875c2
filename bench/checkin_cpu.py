"""Server CPU per check-in, counted: the embedded server (`python app.py`, SQLite) with no viewer,
N attendee check-ins posted through the JSON API, the server process's CPU time divided by N.

    .venv/bin/python bench/checkin_cpu.py                 # 2,000 check-ins at 50/s
    .venv/bin/python bench/checkin_cpu.py --profile       # the same under py-spy: top frames too
    .venv/bin/python bench/checkin_cpu.py -n 500 --rate 100 --workers 8

Counting CPU time (not wall time) keeps the figure meaningful on a shared machine: what other
processes do changes how long a check-in takes, hardly what it costs. Includes the wall's flushes
(no viewer: no fan-out), as the issue's goal (<= 2 ms per check-in, excluding fan-out) counts it.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import PY, Profiler, Servers, cpu_of, free_port, prepare  # noqa: E402


def post_all(url: str, points: list[dict], ids: list[int], rate: float, workers: int, *, first: int = 0) -> list[int]:
    """Post one check-in per attendee id at `rate` per second from `workers` threads; the statuses.

    `ids` are the roster's from index `first` on: roster person k belongs to the unit of point
    k mod n (bench.run.prepare), and a host checks in only the people of their own units."""
    statuses: list[int] = []
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2

    def work(part: int) -> None:
        http = requests.Session()
        for i in range(part, len(ids), workers):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            point = points[(first + i) % len(points)]
            resp = http.post(f"{url}/api/v1/points/{point['id']}/attendee-checkins",
                             json={"client_id": uuid.uuid4().hex, "attendee_id": ids[i]},
                             headers={"Authorization": f"Bearer {point['api_token']}"}, timeout=30)
            with lock:
                statuses.append(resp.status_code)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="check-ins measured")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="py-spy the server while measuring")
    parser.add_argument("--server", choices=("embedded", "gevent"), default="embedded",
                        help="embedded: `python app.py` (Werkzeug, threads); gevent: the Procfile's gunicorn "
                             "gevent worker, one process, on the same SQLite file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="launch-checkin-cpu-"))
    import os

    os.environ["SECRET_KEY"] = secrets.token_hex(32)
    db_url = f"sqlite:///{workdir}/cpu.db"
    data = prepare(db_url, args.n + args.warmup + 10, secrets.token_hex(8), national=False, host_pages=False,
                   workdir=workdir)
    servers = Servers(workdir)
    port = free_port()
    command = [PY, "app.py"] if args.server == "embedded" else [
        str(Path(PY).parent / "gunicorn"), "--worker-class", "gevent", "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "app:app"]
    servers.start("app", command, {"SECRET_KEY": os.environ["SECRET_KEY"], "DATABASE_URL": db_url,
                                          "LAUNCH_CONFIG": "development", "PORT": str(port),
                                          "SCHEDULER_ENABLED": "0", "PYTHONUNBUFFERED": "1"}, port)
    try:
        servers.wait_ready()
        url = servers.urls[0]
        ids = data["attendee_ids"]
        post_all(url, data["points"], ids[:args.warmup], 20, args.workers)
        time.sleep(1.0)
        profiler = Profiler(servers, "checkin-cpu", workdir) if args.profile else None
        cpu0 = cpu_of([servers.ps["app"]])
        started = time.monotonic()
        statuses = post_all(url, data["points"], ids[args.warmup:args.warmup + args.n], args.rate, args.workers,
                            first=args.warmup)
        time.sleep(1.0)  # the last flush
        cpu = cpu_of([servers.ps["app"]]) - cpu0
        ok = sum(1 for s in statuses if s == 200)
        refused = Counter(s for s in statuses if s != 200)
        if refused:
            print(f"NOT ACCEPTED (status: count): {dict(refused)}: the figure below is not a check-in's cost")
        print(f"{ok}/{len(statuses)} check-ins accepted in {time.monotonic() - started:.1f} s; server CPU "
              f"{cpu:.2f} s -> {1000 * cpu / max(1, ok):.2f} ms per check-in (logs: {workdir})")
        if profiler:
            for name, prof in profiler.stop().items():
                print(f"{name}: {prof['busy_samples']} busy samples")
                print("  including callees: " + "; ".join(f"{f} {p}%" for f, p in prof["inclusive"][:12]))
                print("  own time: " + "; ".join(f"{f} {p}%" for f, p in prof["own"][:12]))
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
