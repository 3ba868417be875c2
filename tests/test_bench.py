"""The benchmark's own logic: its viewers behave as wall.js, every check-in x viewer pair is timed,
a never-shown pair is infinitely late, and the national directory it generates is importable.

The end-to-end smoke run (real processes) is marked slow.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import analyse_step, national_csv, parse_args, split
from bench.wallview import (
    RECENT_KEPT,
    WALL_JS,
    BareViewer,
    ReachLog,
    WallViewer,
    hist_percentile,
    latency_bucket,
    new_stats,
    reach_latencies,
    wall_js_constants,
)
from tests.support.services import service_missing

ROOT = Path(__file__).resolve().parent.parent


class FakeConn:
    """Records what the viewer emits."""

    connected = True
    refused = False

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def emit(self, event, data, ack=None) -> None:
        self.sent.append((event, data))
        if ack:
            ack({"ok": True})


def tile(pid: int, attendees: int = 0, checked: bool = False, host: bool = False) -> dict:
    return {"id": pid, "attendees": attendees, "checked_in": checked, "is_host": host, "name": f"P{pid}"}


def counters(checked: int, attendees: int) -> dict:
    return {"checked_in": checked, "attendee_checkins": attendees}


def snapshot(seq: int, tiles: list[dict]) -> dict:
    checked = sum(1 for t in tiles if t["checked_in"] and not t["is_host"])
    return {"event_id": 7, "room": "wall:7", "seq": seq, "tiles": tiles,
            "counters": counters(checked, sum(t["attendees"] for t in tiles))}


def delta(seq: int, tiles: list[dict], c: dict) -> dict:
    return {"event_id": 7, "room": "wall:7", "seq": seq, "tiles": tiles, "counters": c}


GRACE = 0.05


def make_viewer(stats=None) -> tuple[WallViewer, FakeConn]:
    viewer = WallViewer(7, {1: 0, 2: 1, 3: 2}, stats or new_stats(), gap_grace=GRACE, resync_every=3600)
    viewer.conn = FakeConn()
    return viewer, viewer.conn


def watching(stats, seq: int) -> tuple[WallViewer, FakeConn]:
    """A viewer connected and showing the snapshot numbered `seq` (IOC + two points, nothing yet)."""
    viewer, conn = make_viewer(stats)
    viewer.on_connect()
    viewer.apply_snapshot(snapshot(seq, [tile(1, host=True), tile(2), tile(3)]), now=0)
    return viewer, conn


def run(coro):
    """Run a scenario on its own loop in its own thread: Playwright's sync API (browser tests earlier in
    the same session) leaves an event loop running in the main thread, where asyncio.run refuses."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_constants_are_read_from_wall_js():
    consts = wall_js_constants()
    assert consts["gap_grace"] == 1.5
    assert consts["resync_every"] == 600
    assert consts["reconnect_max"] == 10
    assert consts["resync_jitter"] == 3.0


def test_wall_js_without_the_constants_is_refused(tmp_path):
    js = tmp_path / "wall.js"
    js.write_text("var x = 1;")
    with pytest.raises(RuntimeError, match="GAP_GRACE_MS, RESYNC_JITTER_MS or SAFETY_RESYNC_MS"):
        wall_js_constants(js)


def test_in_order_deltas_are_applied_and_logged_without_resync():
    async def scenario():
        viewer, conn = make_viewer()
        viewer.on_connect()
        assert conn.sent == [("join", {"event": 7})]
        viewer.apply_snapshot(snapshot(10, [tile(1, host=True), tile(2), tile(3)]), now=100.0)
        viewer.on_delta(delta(11, [{"id": 2, "attendees": 1, "checked_in": True}], counters(1, 1)), now=100.5)
        viewer.on_delta(delta(12, [{"id": 2, "attendees": 3}], counters(1, 3)), now=101.0)
        viewer.on_delta(delta(12, [{"id": 2, "attendees": 9}], counters(1, 9)), now=101.5)  # a repeat: dropped
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return viewer, conn

    viewer, conn = run(scenario())
    assert viewer.seq == 12
    assert viewer.attendees[1] == 3
    assert conn.sent == [("join", {"event": 7})]  # no resync
    assert viewer.log.reached() == {(1, 1): 100.5, (1, 2): 101.0, (1, 3): 101.0}


def test_the_safety_resync_is_armed_by_each_snapshot_not_a_clock_shared_by_every_wall():
    """wall.js armSafetyResync: a full re-read `resync_every` (plus a random half) after the LAST
    snapshot; a snapshot in between (a resync, a reconnect) puts it off."""
    async def scenario():
        stats = new_stats()
        viewer = WallViewer(7, {1: 0, 2: 1, 3: 2}, stats, gap_grace=GRACE, resync_every=1.0)
        viewer.conn = conn = FakeConn()
        viewer.on_connect()
        viewer.apply_snapshot(snapshot(10, [tile(1, host=True), tile(2), tile(3)]), now=0)
        await asyncio.sleep(0.5)
        viewer.apply_snapshot(snapshot(11, [tile(1, host=True), tile(2), tile(3)]), now=0.5)  # puts it off
        await asyncio.sleep(0.7)  # 1.2 s after the first snapshot: its timer would have fired by now
        before = stats["resync_interval"]
        await asyncio.sleep(1.2)  # 1.9 s after the second snapshot: past 1 s + at most 0.5 s
        after = stats["resync_interval"]
        viewer.close()
        return before, after, conn

    before, after, conn = run(scenario())
    assert before == 0 and after == 1
    assert conn.sent == [("join", {"event": 7}), ("resync", {"event": 7})]


def test_a_snapshot_overtaken_by_deltas_replays_them_instead_of_resyncing():
    """A resync's snapshot numbered 10 arrives after deltas 11 and 12 were applied (they overtook it):
    wall.js applies them again on top, so delta 13 follows with no gap and no resync."""
    async def scenario():
        stats = new_stats()
        viewer, conn = watching(stats, seq=9)
        viewer.on_delta(delta(10, [{"id": 2, "attendees": 1}], counters(0, 1)), now=1)
        viewer.on_delta(delta(11, [{"id": 2, "attendees": 2}], counters(0, 2)), now=2)
        viewer.on_delta(delta(12, [{"id": 3, "attendees": 1}], counters(0, 3)), now=3)
        viewer.apply_snapshot(snapshot(10, [tile(1, host=True), tile(2, attendees=1), tile(3)]), now=4)
        assert viewer.seq == 12 and list(viewer.attendees) == [0, 2, 1]
        viewer.on_delta(delta(13, [{"id": 3, "attendees": 2}], counters(0, 4)), now=5)
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return stats, conn, viewer

    stats, conn, viewer = run(scenario())
    assert viewer.seq == 13 and list(viewer.attendees) == [0, 2, 2]
    assert stats["gaps"] == 0 and conn.sent == [("join", {"event": 7})]


def test_the_recent_deltas_kept_agree_with_wall_js():
    assert re.search(r"RECENT_KEPT\s*=\s*(\d+)", WALL_JS.read_text()).group(1) == str(RECENT_KEPT)


def test_a_gap_waits_for_the_missing_delta_then_resyncs():
    async def scenario():
        stats = new_stats()
        viewer, conn = watching(stats, seq=10)
        viewer.on_delta(delta(12, [{"id": 3, "attendees": 1}], counters(0, 2)), now=1)  # 11 missing
        assert viewer.seq == 10 and viewer.attendees[2] == 0
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return stats, conn, viewer

    stats, conn, viewer = run(scenario())
    assert stats["gaps"] == 1 and stats["resync_gap"] == 1
    assert conn.sent[-1] == ("resync", {"event": 7})
    assert viewer.pending == {}


def test_a_late_delta_within_the_grace_fills_the_gap_without_resync():
    async def scenario():
        stats = new_stats()
        viewer, conn = watching(stats, seq=10)
        viewer.on_delta(delta(12, [{"id": 3, "attendees": 1}], counters(0, 2)), now=1)
        viewer.on_delta(delta(11, [{"id": 2, "attendees": 1}], counters(0, 1)), now=1.01)
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return stats, viewer

    stats, viewer = run(scenario())
    assert stats["gaps"] == 1 and stats["resync_gap"] == 0
    assert viewer.seq == 12 and viewer.shown_total() == 2


def test_counters_that_disagree_with_the_tiles_resync_after_the_grace():
    """wall.js's counter check: a delta whose counters its tiles do not add up to (a lost update)."""
    async def scenario():
        stats = new_stats()
        viewer, conn = watching(stats, seq=10)
        viewer.on_delta(delta(11, [{"id": 2, "attendees": 1}], counters(0, 2)), now=1)  # says 2, tiles say 1
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return stats, conn

    stats, conn = run(scenario())
    assert stats["resync_mismatch"] == 1
    assert conn.sent[-1] == ("resync", {"event": 7})


def test_a_tick_above_the_number_resyncs_after_the_grace():
    async def scenario():
        stats = new_stats()
        viewer, conn = make_viewer(stats)
        viewer.on_connect()
        viewer.apply_snapshot(snapshot(10, [tile(1, host=True), tile(2)]), now=0)
        viewer.on_tick({"room": "wall:7", "seq": 10})  # up to date: nothing
        await asyncio.sleep(GRACE * 2)
        assert stats["resync_tick"] == 0
        viewer.on_tick({"room": "wall:7", "seq": 11})
        await asyncio.sleep(GRACE * 3)
        viewer.close()
        return stats

    assert run(scenario())["resync_tick"] == 1


def test_a_snapshot_drops_older_pending_deltas_and_drains_newer_ones():
    async def scenario():
        viewer, conn = make_viewer()
        viewer.on_connect()
        viewer.apply_snapshot(snapshot(10, [tile(1, host=True), tile(2)]), now=0)
        viewer.on_delta(delta(12, [{"id": 2, "attendees": 2}], counters(0, 2)), now=1)
        viewer.on_delta(delta(14, [{"id": 2, "attendees": 4}], counters(0, 4)), now=1)
        viewer.apply_snapshot(snapshot(13, [tile(1, host=True), tile(2, attendees=3)]), now=2)
        viewer.close()
        return viewer

    viewer = run(scenario())
    assert viewer.seq == 14 and viewer.attendees[1] == 4
    assert viewer.log.reached()[(1, 4)] == 2  # the pending delta was applied when the snapshot came


def test_every_pair_is_timed_and_a_never_shown_one_is_infinitely_late():
    a, b = ReachLog(2), ReachLog(2)
    a.shown(0, 1, 10.010)
    a.shown(0, 3, 10.100)  # jumps: check-ins 2 and 3 are shown at the same moment
    b.shown(0, 2, 10.200)  # never shows the third
    pairs = [(0, 1, 10.0), (0, 2, 10.05), (0, 3, 10.06)]
    hist, unseen = reach_latencies([a, b], pairs)
    assert unseen == 1
    assert sum(hist.values()) == 5
    assert hist == {10: 1, 50: 1, 40: 1, 200: 1, 150: 1}
    assert hist_percentile(hist, unseen, 50) == 50
    assert hist_percentile(hist, unseen, 99) == math.inf
    assert hist_percentile({}, 0, 99) is None


def test_latency_buckets_round_up():
    assert latency_bucket(0.2) == 1
    assert latency_bucket(12.01) == 13
    assert latency_bucket(1234) == 1240
    assert latency_bucket(12345) == 12400


def test_bare_viewer_shows_each_message_count():
    stats = new_stats()
    viewer = BareViewer({5: 0, 6: 1}, stats)
    viewer.on_event("checkin", {"point": 5, "attendee": 1, "n": 1}, 1.0)
    viewer.on_event("checkins", {"items": [[5, 2, 2], [6, 3, 1]]}, 2.0)
    assert viewer.log.reached() == {(0, 1): 1.0, (0, 2): 2.0, (1, 1): 2.0}
    assert viewer.shown_total() == 3


def _args(**kw):
    args = parse_args(["--quick"])
    for k, v in kw.items():
        setattr(args, k, v)
    return args


def _row(due, answered, status=200, code="checked_in"):
    return [1, 5, due, due, answered, status, code, False, "cid", "step"]


def test_a_step_breaks_on_each_goal():
    rows = [_row(i / 10, i / 10 + 0.01) for i in range(100)]
    ok = rows
    fine = [{"hist": {"20": 100}, "unseen": 0, "viewers_behind": 0, "stats": {"bytes": 1000}, "complete_at": 0}]
    marks = [{"stats": {"bytes": 0}}]
    step = analyse_step(10, 100, rows, ok, fine, marks, {"app": 0}, {"app": 0.2}, 0.1, None, 10, 1, {}, _args())
    assert step["broken"] == []
    assert step["cpu_ms_per_checkin"] == 2.0
    assert step["bytes_per_viewer_per_checkin"] == 10
    late = [{**fine[0], "hist": {"400": 100}}]
    assert analyse_step(10, 100, rows, ok, late, marks, {}, {}, 0, None, 10, 1, {}, _args())["broken"] == [
        "wall p99 > 300 ms"]
    lost = [{**fine[0], "hist": {"20": 99}, "unseen": 1}]
    assert analyse_step(10, 100, rows, ok, lost, marks, {}, {}, 0, None, 10, 1, {}, _args())["broken"] == [
        "1 pairs never shown"]
    slow = [_row(i / 10, i / 10 + 0.2) for i in range(100)]
    assert analyse_step(10, 100, slow, slow, fine, marks, {}, {}, 0, None, 10, 1, {}, _args())["broken"] == [
        "HTTP p99 > 50 ms"]
    refused = rows[:90] + [_row(i / 10, i / 10 + 0.01, 429, "rate_limited") for i in range(90, 100)]
    broken = analyse_step(10, 100, refused, rows[:90], fine, marks, {}, {}, 0, None, 10, 1, {}, _args())["broken"]
    assert broken == ["achieved < 95% of offered"]


def test_split_interleaves_the_steps_check_ins():
    assert split(list(range(7)), 3) == [[0, 3, 6], [1, 4], [2, 5]]


def test_national_directory_is_importable(tmp_path):
    from launch import create_app
    from launch.extensions import db
    from launch.models import Unit
    from launch.services.directory import import_directory

    path = national_csv(tmp_path / "national.csv")
    app = create_app("testing")
    with app.app_context():
        db.create_all()
        result = import_directory(path.read_bytes(), source="bench")
        assert result.created == 3356
        levels = dict(db.session.execute(db.select(Unit.level, db.func.count()).group_by(Unit.level)).all())
        assert levels == {"province": 1, "district": 34, "commune": 3321}
        db.session.remove()


@pytest.mark.slow
def test_quick_bench_of_the_bare_baselines_prints_the_table(tmp_path):
    """End to end, real processes, under a minute: the bare modes need neither PostgreSQL nor the app's data."""
    try:
        import aiohttp  # noqa: F401  (the load generator's client)
    except ImportError:
        service_missing("aiohttp", "`make bench` (and .ci/run) install requirements-bench.txt")
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--modes", "bare-emit,bare-batch",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| (c) bare, gevent, emit per check-in | 30 |" in done.stdout
    assert "| (d) bare, gevent, batched 250 ms | 30 |" in done.stdout
    result = json.loads(out.read_text())
    for mode in result["results"]:
        step = mode["steps"][0]
        assert step["pairs"] == step["accepted"] * 30
        assert step["bytes_per_viewer_per_checkin"] > 0


def test_a_province_wall_viewer_times_only_the_points_it_is_shown():
    """At a national launch a viewer watches one province's wall: check-ins elsewhere are not its pairs
    (neither timed nor counted as never shown)."""
    log = ReachLog(3, covered={1, 2})
    log.shown(1, 1, now=10.5)
    hist, unseen = reach_latencies([log], [(0, 1, 10.0), (1, 1, 10.0), (2, 1, 10.0)])
    assert sum(hist.values()) == 1 and unseen == 1  # point 1 shown after 500 ms, point 2 never; point 0 not its own
    assert not log.covers(0) and log.covers(2) and ReachLog(3).covers(0)
