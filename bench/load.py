"""Load generator processes for the benchmark (run by bench/run.py, never by hand).

`python -m bench.load sockets CONFIG OUT`: S Socket.IO clients (wall viewers + host pages with
presence heartbeats) that keep each tile's attendee count and record, for a few measuring viewers,
when each point's count first reached each value (or, against the baseline, when each attendee
id was first seen).

`python -m bench.load scanners CONFIG OUT`: open-loop scanners posting check-ins of distinct
attendees at fixed offered rates (steps), with at most C requests in flight, recording send and
answer times. Both processes start at the same wall-clock instant given in the config and stop
by themselves (bounded in count and time).
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import defaultdict
from typing import Any

import aiohttp
import socketio


async def run_sockets(cfg: dict[str, Any]) -> dict[str, Any]:
    """Connect viewers and host pages, listen until the end time, report what measuring viewers saw."""
    urls: list[str] = cfg["urls"]
    viewers, hosts = cfg["viewers"], cfg["hosts"]
    measuring = min(cfg.get("measuring", 8), viewers)
    end_at: float = cfg["end_at"]
    baseline = cfg.get("baseline", False)
    seen: list[dict[str, Any]] = [defaultdict(dict) for _ in range(measuring)]  # point -> count -> t
    seen_ids: list[dict[int, float]] = [{} for _ in range(measuring)]
    stats = {"connected": 0, "failed": 0, "messages": 0, "resyncs": 0, "gaps": 0, "behind": 0, "bytes": 0}
    clients: list[socketio.AsyncClient] = []

    def make_viewer(index: int) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5)
        state = {"seq": None, "tiles": {}}

        def apply_tiles(tiles: list[dict[str, Any]], now: float) -> None:
            for tile in tiles:
                pid, count = tile["id"], tile.get("attendees", 0)
                state["tiles"][pid] = count
                if index < measuring:
                    bucket = seen[index][pid]
                    if count not in bucket:
                        bucket[count] = now

        @sio.on("wall_snapshot")
        async def on_snapshot(data: dict[str, Any]) -> None:
            stats["messages"] += 1
            state["seq"] = data.get("seq")
            apply_tiles(data.get("tiles", []), time.time())

        pending: dict[int, dict[str, Any]] = {}

        async def resync_if_still_missing(expected: int) -> None:
            await asyncio.sleep(1.5)  # as wall.js: give a late delta (another process's) time to arrive
            if state["seq"] is not None and state["seq"] < expected and pending:
                pending.clear()
                stats["resyncs"] += 1
                await sio.emit("resync", {"event": cfg["event_id"]})

        async def resync_if_behind(expected: int) -> None:
            await asyncio.sleep(1.5)
            if state["seq"] is not None and state["seq"] < expected and not pending:
                stats["resyncs"] += 1
                await sio.emit("resync", {"event": cfg["event_id"]})

        @sio.on("wall_delta")
        async def on_delta(data: dict[str, Any]) -> None:
            now = time.time()
            stats["messages"] += 1
            seq = data.get("seq")
            if state["seq"] is None or seq is None or seq <= state["seq"]:
                return
            pending[seq] = data
            while state["seq"] + 1 in pending:
                delta = pending.pop(state["seq"] + 1)
                state["seq"] = delta["seq"]
                apply_tiles(delta.get("tiles", []), now)
            if pending and len(pending) == 1:
                stats["gaps"] += 1
                asyncio.ensure_future(resync_if_still_missing(min(pending)))

        @sio.on("wall_tick")
        async def on_tick(data: dict[str, Any]) -> None:
            seq = data.get("seq")
            if state["seq"] is not None and seq is not None and seq > state["seq"] and not pending:
                stats["behind"] += 1
                asyncio.ensure_future(resync_if_behind(seq))  # as wall.js: wait a moment, then resync

        @sio.on("checkin")
        async def on_baseline(data: dict[str, Any]) -> None:
            stats["messages"] += 1
            if index < measuring:
                seen_ids[index].setdefault(data["attendee_id"], time.time())

        return sio

    async def connect_viewer(index: int) -> None:
        sio = make_viewer(index)
        url = urls[index % len(urls)]
        try:
            if baseline:
                await sio.connect(url, transports=["websocket"], wait_timeout=20)
            else:
                await sio.connect(url, transports=["websocket"],
                                  headers={"Cookie": cfg["cookie"], "User-Agent": cfg["user_agent"]},
                                  auth={"event": cfg["event_id"]}, wait_timeout=20)
            stats["connected"] += 1
            clients.append(sio)
        except Exception:
            stats["failed"] += 1

    async def host_page(index: int) -> None:
        point = cfg["points"][index % len(cfg["points"])]
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5)
        url = urls[index % len(urls)]
        interval = cfg.get("heartbeat", 15)

        @sio.on("presence_ack")
        async def on_ack(data: dict[str, Any]) -> None:
            nonlocal interval
            interval = data.get("interval") or interval  # as the host page: the server says how often

        try:
            await sio.connect(url, transports=["websocket"], auth={"point": point["id"], "token": point["token"]},
                              wait_timeout=20)
            stats["connected"] += 1
            clients.append(sio)
        except Exception:
            stats["failed"] += 1
            return
        while time.time() < end_at:
            await asyncio.sleep(interval)
            try:
                await sio.emit("heartbeat", {"point": point["id"]})
            except Exception:
                stats["failed"] += 1

    sem = asyncio.Semaphore(50)

    async def guarded(coro: Any) -> None:
        async with sem:
            await coro

    await asyncio.gather(*(guarded(connect_viewer(i)) for i in range(viewers)))
    host_tasks = [] if baseline else [asyncio.create_task(host_page(i)) for i in range(hosts)]
    settle_until = time.time() + 60
    while stats["connected"] + stats["failed"] < viewers + (0 if baseline else hosts) and time.time() < settle_until:
        await asyncio.sleep(0.1)
    ready = time.time()
    if cfg.get("ready_file"):  # the scanners wait for it: no step measures the connection storm
        with open(cfg["ready_file"], "w", encoding="utf-8") as fh:
            fh.write(str(ready))
    stop_file = cfg.get("stop_file")
    while time.time() < end_at and not (stop_file and os.path.exists(stop_file)):
        await asyncio.sleep(0.2)
    for task in host_tasks:
        task.cancel()
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    return {"stats": stats, "ready_at": ready,
            "seen": [{str(p): c for p, c in s.items()} for s in seen],
            "seen_ids": [{str(k): v for k, v in s.items()} for s in seen_ids]}


async def run_scanners(cfg: dict[str, Any]) -> dict[str, Any]:
    """Post check-ins at each step's offered rate; record (step, point, attendee, sent, answered, status, code)."""
    urls: list[str] = cfg["urls"]
    points = cfg["points"]
    next_attendee = cfg["first_attendee"]
    limit = cfg["concurrency"]
    rows: list[list[Any]] = []
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    sem = asyncio.Semaphore(limit)
    baseline = cfg.get("baseline", False)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def post(step: int, i: int, attendee: int, retry_of: str | None = None) -> None:
            point = points[i % len(points)]
            url = urls[i % len(urls)]
            client_id = retry_of or str(uuid.uuid4())
            async with sem:
                sent = time.time()
                status, code = 0, "error"
                try:
                    if baseline:
                        async with http.post(f"{url}/checkin", json={"client_id": client_id, "attendee_id": attendee,
                                                                       "point_id": point["id"]}) as resp:
                            body = await resp.json(content_type=None)
                            status, code = resp.status, ("accepted" if not body.get("repeat") else "replayed")
                    else:
                        async with http.post(
                            f"{url}/api/v1/points/{point['id']}/attendee-checkins",
                            json={"client_id": client_id, "attendee_id": attendee},
                            headers={"Authorization": f"Bearer {point['api_token']}"},
                        ) as resp:
                            body = await resp.json(content_type=None)
                            status, code = resp.status, body.get("code", "?")
                except Exception as exc:
                    code = type(exc).__name__
                rows.append([step, point["id"], attendee, sent, time.time(), status, code, client_id])

        tasks: list[asyncio.Task] = []
        start = cfg["start_at"]
        ready_file = cfg.get("ready_file")
        while time.time() < start or (ready_file and not os.path.exists(ready_file) and time.time() < start + 90):
            await asyncio.sleep(0.01)
        await asyncio.sleep(cfg.get("settle", 0))
        for step, rate in enumerate(cfg["rates"]):
            if step and _saturated(rows, step - 1, cfg["rates"][step - 1], cfg):
                break  # the previous step already broke the goal: stepping higher only measures queueing
            step_start = time.time()
            n = int(rate * cfg["step_seconds"])
            for i in range(n):
                due = step_start + i / rate
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post(step, next_attendee, next_attendee)))
                next_attendee += 1
            await asyncio.gather(*tasks)
            tasks.clear()
            await asyncio.sleep(cfg.get("pause", 1.0))
        if cfg.get("burst"):
            # The burst: as fast as the concurrency allows, 1 in 20 scans sent twice (a retry, same client id).
            burst_rows_start = len(rows)
            batch: list[asyncio.Task] = []
            for _ in range(cfg["burst"]):
                batch.append(asyncio.create_task(post(-1, next_attendee, next_attendee)))
                next_attendee += 1
                if len(batch) >= limit * 4:
                    await asyncio.gather(*batch)
                    batch.clear()
            await asyncio.gather(*batch)
            retries = [r for r in rows[burst_rows_start::20]]
            await asyncio.gather(*(post(-2, r[2], r[2], retry_of=r[7]) for r in retries))
    return {"rows": rows}


def _saturated(rows: list[list[Any]], step: int, rate: int, cfg: dict[str, Any]) -> bool:
    """The step missed its offered rate by over 20 % or its HTTP p99 went past 4x the goal."""
    done = [r for r in rows if r[0] == step]
    if not done:
        return True
    ok = sum(1 for r in done if r[5] == 200)
    window = max(r[4] for r in done) - min(r[3] for r in done)
    latencies = sorted(r[4] - r[3] for r in done)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return ok / max(window, 1e-9) < 0.8 * rate or p99 > 4 * cfg.get("http_p99_goal", 0.05)


def main() -> None:
    """Entry point: role, config path, output path."""
    role, cfg_path, out_path = sys.argv[1:4]
    with open(cfg_path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    runner = run_sockets if role == "sockets" else run_scanners
    result = asyncio.run(runner(cfg))
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
