"""Load-generator processes of the benchmark (started by bench/run.py, never by hand).

    python -m bench.load sockets CONFIG     wall viewers (and optional host pages)
    python -m bench.load scanners CONFIG    check-in scanners (HTTP)

Each reads one JSON command per line on stdin and answers one JSON line on stdout, so the
orchestrator drives every process step by step (several of each run side by side, so no single
event loop is the bottleneck). Logs go to stderr.

sockets: `connect` (every viewer signs in and gets its first snapshot), `stats`, `mark` (start of
a step), `measure` {pairs, deadline} (wait until every viewer shows every pair or the deadline,
then return the latency histogram of every check-in x viewer pair and how many were never shown),
`totals` {expect, deadline} (what each viewer's tiles add up to), `stop`.

scanners: `run` {items: [[attendee, point index, due], ...]} posts each check-in at its due time
(open loop: a slow answer never delays the next send; latency is measured from the due time, so
queueing in the client counts against the server, not for it), `burst` {items, concurrency}
(closed loop, as fast as `concurrency` requests in flight allow, with same-id retries), `stop`.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
import uuid
from typing import Any

import aiohttp

from bench.wallview import (
    BareViewer,
    SioConnection,
    WallViewer,
    new_stats,
    reach_latencies,
    wall_js_constants,
)


def _stdin_queue(loop: asyncio.AbstractEventLoop) -> asyncio.Queue:
    queue: asyncio.Queue = asyncio.Queue()

    def reader() -> None:
        for line in sys.stdin:
            if line.strip():
                loop.call_soon_threadsafe(queue.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(queue.put_nowait, {"cmd": "stop"})

    threading.Thread(target=reader, daemon=True).start()
    return queue


def _reply(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
    sys.stdout.flush()


# --- sockets --------------------------------------------------------------------------------------

class PointPage:
    """A point's host page: connects with the point's presence token and sends heartbeats."""

    def __init__(self, point_id: int) -> None:
        self.point_id = point_id
        self.interval = 15.0
        self.conn: SioConnection | None = None
        self.first_snapshot = asyncio.Event()
        self.task: asyncio.Task | None = None

    def on_connect(self) -> None:
        self.first_snapshot.set()
        if self.task is None:
            self.task = asyncio.ensure_future(self._beat())

    def on_disconnect(self) -> None:
        pass

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def on_event(self, name: str, data: Any, now: float) -> None:
        if name == "presence_ack" and isinstance(data, dict) and data.get("interval"):
            self.interval = float(data["interval"])

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.conn is not None:
                self.conn.emit("heartbeat", {"point": self.point_id}, lambda _ack: None)


async def run_sockets(cfg: dict[str, Any]) -> None:
    """Viewers of one process; see the module docstring for the commands."""
    loop = asyncio.get_running_loop()
    commands = _stdin_queue(loop)
    stats = new_stats()
    index_of = {pid: i for i, pid in enumerate(cfg["point_ids"])}
    urls = cfg["urls"]
    consts = wall_js_constants() if cfg["kind"] == "wall" else {"reconnect_max": 10.0}
    connector = aiohttp.TCPConnector(limit=0)
    http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_connect=30))
    viewers: list[Any] = []
    pages: list[PointPage] = []
    headers = {"User-Agent": cfg.get("user_agent", "launch-bench"), **({"Cookie": cfg["cookie"]} if cfg.get("cookie")
                                                                       else {})}

    def make_viewer(number: int) -> Any:
        if cfg["kind"] == "wall":
            group = covered = None
            if cfg.get("view_groups"):  # a national launch: this viewer watches one province's wall
                group = cfg["view_groups"][number % len(cfg["view_groups"])]
                covered = {index_of[pid] for pid, g in zip(cfg["point_ids"], cfg["point_groups"], strict=True)
                           if g == group}
            viewer = WallViewer(cfg["event_id"], index_of, stats, gap_grace=consts["gap_grace"],
                                resync_every=consts["resync_every"], resync_jitter=consts["resync_jitter"],
                                group=group, covered=covered)
        else:
            viewer = BareViewer(index_of, stats)
        viewer.conn = SioConnection(http, urls[number % len(urls)], viewer, stats, headers=headers,
                                    reconnect_max=consts["reconnect_max"])
        return viewer

    async def connect_all(timeout: float, total: float) -> dict[str, Any]:
        started = time.time()
        gate = asyncio.Semaphore(25)  # handshakes in flight: a crowd arriving, not a stampede of 1,000 at once

        async def one(viewer: Any) -> None:
            async with gate:
                viewer.conn.start()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(viewer.first_snapshot.wait(), timeout)

        for number in cfg["viewer_numbers"]:
            viewers.append(make_viewer(number))
        for n, page in enumerate(cfg.get("host_pages", [])):
            p = PointPage(page["id"])
            p.conn = SioConnection(http, urls[n % len(urls)], p, stats, headers=headers,
                                   auth={"point": page["id"], "token": page["token"]})
            pages.append(p)
        tasks = [asyncio.ensure_future(one(v)) for v in viewers + pages]
        await asyncio.wait(tasks, timeout=total)  # the late ones keep trying, as pages would
        ready = sum(1 for v in viewers if v.first_snapshot.is_set() and not v.conn.refused)
        return {"ready": ready, "viewers": len(viewers), "pages": len(pages),
                "pages_ready": sum(1 for p in pages if p.first_snapshot.is_set() and not p.conn.refused),
                "seconds": round(time.time() - started, 2), "stats": dict(stats)}

    async def measure(pairs: list[list[Any]], deadline: float) -> dict[str, Any]:
        needed: dict[int, int] = {}
        for index, j, _sent in pairs:
            if j > needed.get(index, 0):
                needed[index] = j
        waiting = list(viewers)
        while waiting and time.time() < deadline:
            waiting = [v for v in waiting if any(v.log.high[i] < j for i, j in needed.items() if v.log.covers(i))]
            if waiting:
                await asyncio.sleep(0.1)
        done_at = time.time()
        hist, unseen = reach_latencies((v.log for v in viewers), [(i, j, s) for i, j, s in pairs])
        for v in viewers:
            v.log.clear()
        return {"hist": hist, "unseen": unseen, "pairs": sum(hist.values()) + unseen, "complete_at": done_at,
                "viewers_behind": len(waiting), "stats": dict(stats)}

    async def totals(expect: int | None, deadline: float) -> dict[str, Any]:
        while expect is not None and time.time() < deadline and any(v.shown_total() != expect for v in viewers):
            await asyncio.sleep(0.2)
        shown = [v.shown_total() for v in viewers]
        return {"shown": shown, "stats": dict(stats), "t": time.time()}

    try:
        while True:
            cmd = await commands.get()
            name = cmd.get("cmd")
            if name == "connect":
                _reply(await connect_all(float(cmd.get("timeout", 60)), float(cmd.get("total", 120))))
            elif name == "stats":
                _reply({"stats": dict(stats), "t": time.time()})
            elif name == "mark":
                for v in viewers:
                    v.log.clear()
                _reply({"stats": dict(stats), "t": time.time()})
            elif name == "measure":
                _reply(await measure(cmd["pairs"], float(cmd["deadline"])))
            elif name == "totals":
                _reply(await totals(cmd.get("expect"), float(cmd.get("deadline", 0))))
            elif name == "stop":
                for v in viewers + pages:
                    v.close()
                await asyncio.gather(*(v.conn.close() for v in viewers + pages), return_exceptions=True)
                _reply({"stats": dict(stats), "t": time.time()})
                break
    finally:
        await http.close()


# --- scanners -------------------------------------------------------------------------------------

async def run_scanners(cfg: dict[str, Any]) -> None:
    """Check-in scanners of one process; see the module docstring for the commands."""
    loop = asyncio.get_running_loop()
    commands = _stdin_queue(loop)
    urls: list[str] = cfg["urls"]
    points: list[dict[str, Any]] = cfg["points"]
    bare = cfg["kind"] == "bare"
    limit = int(cfg.get("concurrency", 128))
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    http = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))

    async def post(attendee: int, point_index: int, due: float, tag: str, client_id: str | None = None) -> list[Any]:
        point = points[point_index]
        url = urls[attendee % len(urls)]
        client_id = client_id or uuid.uuid4().hex
        sent = time.time()
        status, code, replay = 0, "error", False
        try:
            if bare:
                async with http.post(f"{url}/checkin", json={"client_id": client_id, "attendee_id": attendee,
                                                              "point_id": point["id"]}) as resp:
                    body = await resp.json(content_type=None)
                    status = resp.status
                    code, replay = ("checked_in", bool(body.get("repeat"))) if body.get("ok") else ("refused", False)
            else:
                async with http.post(f"{url}/api/v1/points/{point['id']}/attendee-checkins",
                                     json={"client_id": client_id, "attendee_id": attendee},
                                     headers={"Authorization": f"Bearer {point['api_token']}"}) as resp:
                    body = await resp.json(content_type=None)
                    status, code, replay = resp.status, body.get("code", "?"), bool(body.get("replay"))
        except Exception as exc:  # a timeout or a reset is an answer too: the step shows it
            code = type(exc).__name__
        return [attendee, point["id"], due, sent, time.time(), status, code, replay, client_id, tag]

    async def run(items: list[list[Any]]) -> list[list[Any]]:
        tasks = []
        for attendee, point_index, due in items:
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(post(attendee, point_index, due, "step")))
        return list(await asyncio.gather(*tasks))

    async def burst(items: list[list[Any]], concurrency: int) -> list[list[Any]]:
        """1 in 20 scans is sent twice with the same client id: right away (kind 1) or after its answer (kind 2)."""
        gate = asyncio.Semaphore(concurrency)
        rows: list[list[Any]] = []

        async def one(attendee: int, point_index: int, kind: int) -> None:
            client_id = uuid.uuid4().hex
            async with gate:
                first = [asyncio.ensure_future(post(attendee, point_index, time.time(), "burst", client_id))]
                if kind == 1:
                    first.append(asyncio.ensure_future(post(attendee, point_index, time.time(), "retry", client_id)))
                rows.extend(await asyncio.gather(*first))
                if kind == 2:
                    rows.append(await post(attendee, point_index, time.time(), "retry", client_id))

        await asyncio.gather(*(one(*item) for item in items))
        return rows

    try:
        while True:
            cmd = await commands.get()
            name = cmd.get("cmd")
            if name == "run":
                _reply({"rows": await run(cmd["items"])})
            elif name == "burst":
                _reply({"rows": await burst(cmd["items"], int(cmd.get("concurrency", 64)))})
            elif name == "stop":
                _reply({"ok": True})
                break
    finally:
        await http.close()


def main() -> None:
    """Entry point: role and config path."""
    role, cfg_path = sys.argv[1:3]
    with open(cfg_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    asyncio.run(run_sockets(cfg) if role == "sockets" else run_scanners(cfg))


if __name__ == "__main__":
    main()
