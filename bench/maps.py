"""Time loading today's map and a national launch on it (issue 13's goals):

- import one province <= 1 s, the whole country (3,356 units) <= 10 s;
- the national wall's snapshot <= 50 ms server time and <= 30 KB as JSON; a province's <= 50 ms;
- the QR sheet of one province's communes (the largest, ~170 codes) <= 2 s.

    .venv/bin/python bench/maps.py                       # SQLite (a fresh file per run)
    .venv/bin/python bench/maps.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/launch_bench_maps
    .venv/bin/python bench/maps.py --repeat 5 --province 79

Each run starts from an empty, migrated database (models created directly) and calls the same
service as `flask directory import --province CODE` / `--country`, in process: the time is the
import's (parse the package data, check, write, commit), not Python's start-up. Also timed: the
same import again (nothing changes: every unit compared), and a province after the country.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"province": 1.0, "country": 10.0, "national snapshot": 0.05, "province snapshot": 0.05,
         "QR sheet, largest province": 2.0}
SIZE_GOALS = {"national snapshot": 30_000}


def _ensure_pg(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _fresh_app(url: str):  # noqa: ANN202
    from sqlalchemy import text

    from launch import create_app
    from launch.extensions import db

    if url.startswith("postgresql"):
        _ensure_pg(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
    return app


def _timed(app, steps: list[tuple[str, Callable[[], object]]]) -> dict[str, float]:  # noqa: ANN001
    from launch.extensions import db

    out = {}
    with app.app_context():
        for name, step in steps:
            start = time.perf_counter()
            result = step()
            out[name] = time.perf_counter() - start
            out[name + ":n"] = getattr(result, "total", 0)
        db.session.remove()
        db.engine.dispose()
    return out


def run(url_for_run: Callable[[int], str], province: str, repeat: int) -> dict[str, list[float]]:
    from launch.services import directory
    from launch.services.directory import todays_map

    times: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for i in range(repeat):
        todays_map.package_data.cache_clear()  # each run reads the package data afresh
        app = _fresh_app(url_for_run(i))
        r = _timed(app, [
            ("province", lambda: directory.import_current_map(province)),
            ("province again", lambda: directory.import_current_map(province)),
        ])
        app = _fresh_app(url_for_run(i))
        r |= _timed(app, [
            ("country", lambda: directory.import_current_map(None)),
            ("country again", lambda: directory.import_current_map(None)),
            ("province after the country", lambda: directory.import_current_map(province)),
        ])
        for key, value in r.items():
            if key.endswith(":n"):
                counts[key[:-2]] = int(value)
            else:
                times.setdefault(key, []).append(value)
    return {k: (v, counts.get(k, 0)) for k, v in times.items()}


def _national_steps(app) -> dict[str, tuple[float, int]]:  # noqa: ANN001
    """A launch of every point of the country (the national IOC hosting): the national wall's and a
    province's snapshot (server time, JSON bytes), a check-in's deltas, the largest province's QR sheet."""
    import json

    from sqlalchemy import func, select

    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import EventPoint
    from launch.services import directory, events, wall
    from launch.services.users import create_user

    out: dict[str, tuple[float, int]] = {}
    with app.app_context():
        directory.import_current_map(None)
        event = events.create_event({"title": "Lễ phát động toàn quốc (benchmark)", "start": "2030-01-02T08:00",
                                     "end": "2030-01-02T10:00"}, now=utcnow())
        largest, _n = db.session.execute(
            select(EventPoint.group_id, func.count()).where(EventPoint.event_id == event.id,
                                                            EventPoint.is_host.is_(False))
            .group_by(EventPoint.group_id).order_by(func.count().desc()).limit(1)).one()
        for name, args in (("national snapshot", (event.id,)), ("province snapshot", (event.id, largest))):
            wall.full_view(*args)  # warm the statement caches, as a running server has them
            start, cpu = time.perf_counter(), time.process_time()
            view = wall.full_view(*args)
            out[name] = (time.perf_counter() - start, len(json.dumps(view).encode()))
            out[name + " (CPU of this process)"] = (time.process_time() - cpu, len(json.dumps(view).encode()))
        point_id = db.session.scalar(select(EventPoint.id).where(EventPoint.event_id == event.id,
                                                                 EventPoint.group_id == largest,
                                                                 EventPoint.is_host.is_(False)).limit(1))
        start = time.perf_counter()
        deltas = wall.build_deltas(event.id, {point_id})
        out["a check-in's deltas"] = (time.perf_counter() - start, len(json.dumps(deltas[0]).encode()))
        create_user("bench-op", "bench-operator-2030", "operator")
        event_id = event.id
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "bench-op", "password": "bench-operator-2030"})
    start = time.perf_counter()
    resp = client.get(f"/c/events/{event_id}/qr-sheet?district={largest}")
    out["QR sheet, largest province"] = (time.perf_counter() - start, resp.get_data(as_text=True).count("qr-card\""))
    return out


def national(url_for_run: Callable[[int], str], repeat: int) -> dict[str, tuple[list[float], int]]:
    """`_national_steps` on a fresh database per run: {step: (seconds per run, bytes or codes)}."""
    from launch.extensions import db

    times: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for i in range(repeat):
        app = _fresh_app(url_for_run(100 + i))
        for name, (seconds, size) in _national_steps(app).items():
            times.setdefault(name, []).append(seconds)
            sizes[name] = size
        with app.app_context():
            db.engine.dispose()
    return {k: (v, sizes[k]) for k, v in times.items()}


def _report(label: str, results: dict[str, tuple[list[float], int]]) -> bool:
    """Print one line per step with its goal; True if a goal was missed."""
    failed = False
    for name, (values, n) in results.items():
        goal, size_goal = GOALS.get(name), SIZE_GOALS.get(name)
        verdicts = []
        if goal is not None:
            ok = max(values) <= goal
            failed |= not ok
            verdicts.append(f"<= {goal:g} s {'met' if ok else 'MISSED'}")
        if size_goal is not None:
            ok = n <= size_goal
            failed |= not ok
            verdicts.append(f"<= {size_goal // 1000} KB {'met' if ok else 'MISSED'}")
        median, worst = statistics.median(values), max(values)
        print(f"{label:12} {name:28} {n:6d} {median:9.3f} {worst:7.3f}  {', '.join(verdicts)}")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--province", default="51", help="province code of today's map (default 51, Quảng Ngãi)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per database (median and max reported)")
    parser.add_argument("--pg", default=None, help="also time PostgreSQL at this SQLAlchemy URL (its schema is reset)")
    args = parser.parse_args()

    targets: list[tuple[str, Callable[[int], str]]] = []
    tmp = tempfile.mkdtemp(prefix="launch-bench-maps-")
    targets.append(("SQLite", lambda i: f"sqlite:///{tmp}/maps-{i}.db"))
    if args.pg:
        targets.append(("PostgreSQL", lambda i: args.pg))

    print(f"today's map, province {args.province}; {args.repeat} run(s) per database, fresh database each")
    print(f"{'database':12} {'import':28} {'units':>6} {'median s':>9} {'max s':>7}  goal")
    failed = False
    for label, url_for_run in targets:
        failed |= _report(label, run(url_for_run, args.province, args.repeat))
    print()
    print("a national launch (3,356 points); size: JSON bytes (snapshots, the national delta) or QR codes;")
    print("CPU of this process: the same read without the waits of a shared machine (SQLite's work included)")
    print(f"{'database':12} {'step':28} {'size':>6} {'median s':>9} {'max s':>7}  goal")
    for label, url_for_run in targets:
        failed |= _report(label, national(url_for_run, args.repeat))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
