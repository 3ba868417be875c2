"""Time loading today's map: one province (goal <= 1 s) and the whole country (goal <= 10 s).

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

GOALS = {"province": 1.0, "country": 10.0}


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
        for name, (values, n) in run(url_for_run, args.province, args.repeat).items():
            goal = GOALS.get(name)
            verdict = ""
            if goal is not None:
                ok = max(values) <= goal
                failed |= not ok
                verdict = f"<= {goal:g} s {'met' if ok else 'MISSED'}"
            print(f"{label:12} {name:28} {n:6d} {statistics.median(values):9.3f} {max(values):7.3f}  {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
