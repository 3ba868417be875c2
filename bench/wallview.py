"""What one wall viewer does, in Python, so the benchmark's viewers behave like the real page.

`WallViewer` mirrors `launch/static/js/wall.js` step by step (snapshot on join, numbered deltas
applied in order, their changed counters merged, a gap waits GAP_GRACE_MS plus a random share of
RESYNC_JITTER_MS then resyncs, the counter check that resyncs when the tiles do not add up to the
counters, `wall_tick`, the periodic resync, reconnection). Its
constants are read from wall.js itself (`wall_js_constants`), so a change there cannot silently
leave the benchmark's viewers behaving differently. When the wall protocol changes, change this
class with wall.js: it is the benchmark's only copy of it.

`BareViewer` is the viewer of the bare baseline apps (bench/baseline_app.py): it shows the count
each message carries, nothing else (no sequence numbers, no resync).

Both record, per point, when the count the viewer SHOWS first reached each value (a log of
increases), from which `reach_latencies` times every check-in x viewer pair.

`SioConnection` is a minimal Socket.IO 5 / Engine.IO 4 client over a websocket (what the pages'
client does with `transports: ["websocket"]`): it counts the bytes every viewer receives and is
light enough that hundreds of viewers fit in one load-generator process.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import re
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WALL_JS = Path(__file__).resolve().parent.parent / "launch" / "static" / "js" / "wall.js"
RECENT_KEPT = 64  # wall.js RECENT_KEPT (tests/test_bench.py checks they agree)

#: socket.io-client defaults (the pages set only reconnectionDelayMax).
RECONNECT_DELAY = 1.0
RECONNECT_RANDOMIZATION = 0.5


def wall_js_constants(path: Path = WALL_JS) -> dict[str, float]:
    """GAP_GRACE_MS, RESYNC_JITTER_MS, the safety resync and the reconnection cap, read from wall.js (seconds).

    Raises if wall.js no longer has them: the benchmark must then be taught the new behaviour.
    """
    text = path.read_text(encoding="utf-8")
    grace = re.search(r"GAP_GRACE_MS\s*=\s*(\d+)", text)
    every = re.search(r"SAFETY_RESYNC_MS\s*=\s*([\d\s*]+);", text)
    cap = re.search(r"reconnectionDelayMax\s*:\s*(\d+)", text)
    jitter = re.search(r"RESYNC_JITTER_MS\s*=\s*(\d+)", text)
    if not grace or not every or not jitter:
        raise RuntimeError(f"{path}: GAP_GRACE_MS, RESYNC_JITTER_MS or SAFETY_RESYNC_MS not found; "
                           "update bench/wallview.py")
    every_ms = math.prod(int(x) for x in every.group(1).replace(" ", "").split("*"))
    return {"gap_grace": int(grace.group(1)) / 1000, "resync_every": every_ms / 1000,
            "resync_jitter": int(jitter.group(1)) / 1000,
            "reconnect_max": int(cap.group(1)) / 1000 if cap else 5.0}


# --- counters of one load-generator process ---------------------------------------------------------

STAT_KEYS = ("bytes", "messages", "snapshots", "deltas", "ticks", "gaps", "resync_gap", "resync_tick",
             "resync_mismatch", "resync_interval", "resync_unknown_tile", "connects", "reconnects",
             "disconnects", "connect_failed", "refused")


def new_stats() -> dict[str, int]:
    """Zeroed counters shared by every viewer of a process."""
    return dict.fromkeys(STAT_KEYS, 0)


class ReachLog:
    """When the count shown for each point first went up, and to what (since the last `clear`)."""

    def __init__(self, n_points: int, covered: set[int] | None = None) -> None:
        self.covered = covered  # the point indexes this viewer is shown (None: all)
        self.high = array("i", bytes(4 * n_points))  # highest count ever shown, per point index
        self.point = array("i")
        self.old = array("i")
        self.new = array("i")
        self.at = array("d")

    def shown(self, index: int, count: int, now: float) -> None:
        """The viewer now shows `count` for point `index`."""
        if count > self.high[index]:
            self.point.append(index)
            self.old.append(self.high[index])
            self.new.append(count)
            self.at.append(now)
            self.high[index] = count

    def covers(self, index: int) -> bool:
        """Whether this viewer is shown the point (a province's wall shows that province's points)."""
        return self.covered is None or index in self.covered

    def clear(self) -> None:
        """Forget the increases so far (the high-water marks stay)."""
        for arr in (self.point, self.old, self.new, self.at):
            del arr[:]

    def reached(self) -> dict[tuple[int, int], float]:
        """(point index, count) -> first time shown, for every increase since the last clear."""
        out: dict[tuple[int, int], float] = {}
        for i, old, new, at in zip(self.point, self.old, self.new, self.at, strict=True):
            for j in range(old + 1, new + 1):
                out[(i, j)] = at
        return out


def latency_bucket(ms: float) -> int:
    """The histogram bucket of a latency: its upper bound in ms (1 ms steps to 1 s, 10 ms to 10 s, then 100 ms)."""
    if ms <= 1000:
        return max(0, math.ceil(ms))
    if ms <= 10000:
        return math.ceil(ms / 10) * 10
    return math.ceil(ms / 100) * 100


def reach_latencies(logs: Iterable[ReachLog], pairs: list[tuple[int, int, float]]) -> tuple[dict[int, int], int]:
    """Every (check-in, viewer) pair timed: (histogram ms bucket -> pairs, pairs never shown).

    `pairs` are (point index, j, sent): the j-th accepted check-in at that point, sent at `sent`,
    is shown when the viewer's count for the point first reaches j.
    """
    hist: dict[int, int] = {}
    unseen = 0
    for log in logs:
        reached = log.reached()
        for index, j, sent in pairs:
            if not log.covers(index):  # not on this viewer's wall: not a pair
                continue
            at = reached.get((index, j))
            if at is None:
                if log.high[index] >= j:  # shown before the log began: cannot be later than the send
                    at = sent
                else:
                    unseen += 1
                    continue
            bucket = latency_bucket((at - sent) * 1000)
            hist[bucket] = hist.get(bucket, 0) + 1
    return hist, unseen


def merge_hist(into: dict[int, int], other: dict[Any, int]) -> dict[int, int]:
    """Add `other` (keys may be strings, from JSON) into `into`."""
    for k, v in other.items():
        into[int(k)] = into.get(int(k), 0) + v
    return into


def hist_percentile(hist: dict[int, int], unseen: int, q: float) -> float | None:
    """The q-th percentile of the pairs, the never-shown ones counting as infinitely late."""
    total = sum(hist.values()) + unseen
    if not total:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return float(bucket)
    return math.inf


# --- the wall page's behaviour ----------------------------------------------------------------------

class WallViewer:
    """One wall page (wall.js) watching the whole wall of one event.

    Only what the counter check needs is kept per tile (attendees, checked in, is host); rendering
    is not simulated. Timers run on the event loop like the page's setTimeout; the safety resync
    is armed by every snapshot, `resync_every` plus a random half of it later (wall.js armSafetyResync).
    """

    def __init__(self, event_id: int, index_of: dict[int, int], stats: dict[str, int], *,
                 gap_grace: float, resync_every: float, resync_jitter: float = 0.0, group: int | None = None,
                 covered: set[int] | None = None) -> None:
        n = len(index_of)
        self.event_id = event_id
        self.index_of = index_of
        self.stats = stats
        self.gap_grace = gap_grace
        self.resync_jitter = resync_jitter
        self.resync_every = resync_every
        self.safety_timer: asyncio.TimerHandle | None = None
        self.group = group  # a national launch: the province whose wall this viewer watches
        self.log = ReachLog(n, covered)
        self.attendees = array("i", bytes(4 * n))
        self.checked = bytearray(n)
        self.host = bytearray(n)
        self.present = bytearray(n)  # the tile is in the viewer's state (came with a snapshot)
        self.sum_attendees = 0
        self.sum_checked = 0
        self.seq: int | None = None
        self.room: str | None = None
        self.counters: dict[str, Any] | None = None
        self.pending: dict[int, dict[str, Any]] = {}
        self.recent: dict[int, dict[str, Any]] = {}
        self.gap_timer: asyncio.TimerHandle | None = None
        self.mismatch_timer: asyncio.TimerHandle | None = None
        self.unknown_tile = False
        self.snapshots = 0
        self.conn: SioConnection | None = None
        self.first_snapshot = asyncio.Event()

    # -- what the page sends
    def request(self, kind: str) -> None:
        """socket.emit(kind, {event}, ack): a refusal shows "refused" on the page."""
        if self.conn is not None:
            data = {"event": self.event_id} if self.group is None else {"event": self.event_id, "district": self.group}
            self.conn.emit(kind, data, self._on_ack)

    def _on_ack(self, ack: Any) -> None:
        if not (isinstance(ack, dict) and ack.get("ok")):
            self.stats["refused"] += 1

    def resync(self, reason: str) -> None:
        """wall.js resync(): drop the pending deltas, ask for a fresh snapshot."""
        if self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        self.pending = {}
        self.stats["resync_" + reason] += 1
        if self.conn is not None and self.conn.connected:
            self.request("resync")

    # -- connection events
    def on_connect(self) -> None:
        """socket.on("connect"): forget the number, join (the server answers with a snapshot)."""
        self.seq = None
        self.request("join")

    def on_disconnect(self) -> None:
        """socket.on("disconnect")."""
        self.seq = None

    def arm_safety_resync(self) -> None:
        """wall.js armSafetyResync(): a full re-read `resync_every` (+ a random half) after this snapshot."""
        if self.safety_timer is not None:
            self.safety_timer.cancel()
        delay = self.resync_every * (1 + random.random() / 2)
        self.safety_timer = asyncio.get_event_loop().call_later(delay, self.resync, "interval")

    def close(self) -> None:
        """The page is closed: stop its timers."""
        for timer in (self.gap_timer, self.mismatch_timer, self.safety_timer):
            if timer is not None:
                timer.cancel()

    def on_event(self, name: str, data: Any, now: float) -> None:
        """A server event, dispatched as the page's socket.on handlers."""
        if name == "wall_snapshot":
            if isinstance(data, dict) and data.get("event_id") == self.event_id:
                self.apply_snapshot(data, now)
        elif name == "wall_delta":
            self.on_delta(data, now)
        elif name == "wall_tick":
            self.on_tick(data)

    # -- protocol (wall.js applySnapshot / applyDelta / drain / agreesWithCounters)
    def _set_tile(self, index: int, attendees: int, checked: bool, now: float) -> None:
        self.sum_attendees += attendees - self.attendees[index]
        self.attendees[index] = attendees
        c = 1 if checked else 0
        if not self.host[index]:
            self.sum_checked += c - self.checked[index]
        self.checked[index] = c
        self.log.shown(index, attendees, now)

    def apply_snapshot(self, snap: dict[str, Any], now: float) -> None:
        """Replace the whole state; drop pending deltas at or below its number; drain the rest."""
        self.arm_safety_resync()
        self.stats["snapshots"] += 1
        self.snapshots += 1
        self.room = snap.get("room")
        self.seq = snap.get("seq")
        n = len(self.index_of)
        self.attendees = array("i", bytes(4 * n))
        self.checked = bytearray(n)
        self.host = bytearray(n)
        self.present = bytearray(n)
        self.sum_attendees = self.sum_checked = 0
        for tile in snap.get("tiles", []):
            index = self.index_of.get(tile.get("id"))
            if index is None:
                continue
            self.present[index] = 1
            self.host[index] = 1 if tile.get("is_host") else 0
            self._set_tile(index, tile.get("attendees") or 0, bool(tile.get("checked_in")), now)
        self.counters = _checked_counters(snap.get("counters"))
        if self.seq is not None:
            self.pending = {k: v for k, v in self.pending.items() if k > self.seq}
            # deltas applied before this (older) snapshot arrived: applied again on top, not lost
            for k, d in self.recent.items():
                if k > self.seq and k not in self.pending and d.get("room") == self.room:
                    self.pending[k] = d
        self.drain(now)
        self.first_snapshot.set()

    def apply_delta(self, d: dict[str, Any], now: float) -> None:
        """Merge the changed tiles' fields, take the counters and the number, check the counters."""
        self.stats["deltas"] += 1
        unknown = False
        for tile in d.get("tiles", []):
            index = self.index_of.get(tile.get("id"))
            if index is None or not self.present[index]:
                unknown = True
                continue
            attendees = tile["attendees"] if "attendees" in tile else self.attendees[index]
            checked = tile["checked_in"] if "checked_in" in tile else self.checked[index]
            self._set_tile(index, attendees or 0, bool(checked), now)
        if unknown or d.get("removed"):
            self.unknown_tile = True
            self.schedule_resync()
        counters = _checked_counters(d.get("counters"))
        if d.get("full") or self.counters is None:
            self.counters = counters
        elif counters:
            self.counters = {**self.counters, **counters}  # changed values only: merged
        self.seq = d.get("seq")
        if self.seq is not None:  # wall.js `recent`: the last RECENT_KEPT deltas applied
            self.recent[self.seq] = d
            for k in [k for k in self.recent if k <= self.seq - RECENT_KEPT]:
                del self.recent[k]
        if not self.agrees(self.counters):
            self.schedule_resync()

    def agrees(self, counters: dict[str, Any] | None) -> bool:
        """The tiles add up to the counters (checked-in non-host points, attendee check-ins)."""
        if not counters:
            return True
        return (self.sum_checked == counters.get("checked_in")
                and self.sum_attendees == counters.get("attendee_checkins"))

    def resync_delay(self) -> float:
        """wall.js resyncDelay(): the grace, plus a random share of the jitter (viewers spread out)."""
        return self.gap_grace + random.random() * self.resync_jitter

    def schedule_resync(self) -> None:
        """Give a crossing delta its grace, then resync if the tiles still disagree."""
        if self.mismatch_timer is not None:
            return
        loop = asyncio.get_event_loop()
        self.mismatch_timer = loop.call_later(self.resync_delay(), self._mismatch_check)

    def _mismatch_check(self) -> None:
        self.mismatch_timer = None
        if self.unknown_tile or not self.agrees(self.counters):
            reason = "unknown_tile" if self.unknown_tile else "mismatch"
            self.unknown_tile = False
            self.resync(reason)

    def drain(self, now: float) -> None:
        """Apply the deltas that follow the current number, in order."""
        while self.seq is not None and self.seq + 1 in self.pending:
            self.apply_delta(self.pending.pop(self.seq + 1), now)
        if not self.pending and self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None

    def on_delta(self, d: Any, now: float) -> None:
        """Keep a newer delta; apply what is in order; on a gap wait GAP_GRACE_MS, then resync."""
        if not isinstance(d, dict):
            return
        seq = d.get("seq")
        if d.get("room") != self.room or self.seq is None or seq is None or seq <= self.seq:
            return
        self.pending[seq] = d
        self.drain(now)
        if self.pending and self.gap_timer is None:
            self.stats["gaps"] += 1
            self.gap_timer = asyncio.get_event_loop().call_later(self.resync_delay(), self.resync, "gap")

    def on_tick(self, t: Any) -> None:
        """A room number above ours, with no gap pending: the last delta(s) never came."""
        self.stats["ticks"] += 1
        if not isinstance(t, dict) or t.get("room") != self.room or self.seq is None or self.gap_timer is not None:
            return
        if (t.get("seq") or 0) <= self.seq:
            return
        self.gap_timer = asyncio.get_event_loop().call_later(self.resync_delay(), self.resync, "tick")

    def shown_total(self) -> int:
        """Attendee check-ins the viewer's tiles add up to now."""
        return self.sum_attendees


def _checked_counters(counters: Any) -> dict[str, Any] | None:
    """The counters the check needs, copied (decoded payloads are shared by the viewers of a process)."""
    if not isinstance(counters, dict):
        return None
    return {k: counters[k] for k in ("checked_in", "attendee_checkins") if k in counters}


class BareViewer:
    """A viewer of the bare baseline app: shows the per-point count each message carries."""

    def __init__(self, index_of: dict[int, int], stats: dict[str, int]) -> None:
        self.index_of = index_of
        self.stats = stats
        self.log = ReachLog(len(index_of))
        self.conn: SioConnection | None = None
        self.first_snapshot = asyncio.Event()  # "ready" as soon as connected
        self.total = 0

    def on_connect(self) -> None:
        """Nothing to join: the bare app emits to everyone."""
        self.first_snapshot.set()

    def on_disconnect(self) -> None:
        """Messages sent meanwhile are simply lost (the baseline guarantees nothing)."""

    def close(self) -> None:
        """No timers."""

    def _show(self, point_id: int, count: int, now: float) -> None:
        index = self.index_of.get(point_id)
        if index is not None:
            before = self.log.high[index]
            self.log.shown(index, count, now)
            self.total += max(0, self.log.high[index] - before)

    def on_event(self, name: str, data: Any, now: float) -> None:
        """`checkin` {point, attendee, n} (one per check-in) or `checkins` {items: [[point, attendee, n]]}."""
        if name == "checkin":
            self.stats["deltas"] += 1
            self._show(data["point"], data["n"], now)
        elif name == "checkins":
            self.stats["deltas"] += 1
            for point, _attendee, n in data["items"]:
                self._show(point, n, now)

    def shown_total(self) -> int:
        """Check-ins the viewer shows now."""
        return self.total


# --- Socket.IO over a websocket -------------------------------------------------------------------

class _ParseCache:
    """The same broadcast reaches every viewer of a process: decode each distinct payload once.

    Viewers never modify what they are given, so sharing the decoded object is safe.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.items: OrderedDict[str, Any] = OrderedDict()

    def loads(self, text: str) -> Any:
        hit = self.items.get(text)
        if hit is not None:
            self.items.move_to_end(text)
            return hit
        value = json.loads(text)
        self.items[text] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


PARSE_CACHE = _ParseCache()


class SioConnection:
    """A Socket.IO client on one websocket (EIO=4), reconnecting like socket.io-client.

    `handler` gets on_connect(), on_disconnect() and on_event(name, data, now). Bytes counted are
    the websocket message payloads received (no frame headers, no TCP/IP, no compression: the
    benchmark's client does not offer permessage-deflate).
    """

    def __init__(self, http: Any, base_url: str, handler: Any, stats: dict[str, int], *,
                 headers: dict[str, str] | None = None, auth: dict[str, Any] | None = None,
                 reconnect_max: float = 10.0, clock: Callable[[], float] | None = None) -> None:
        import time

        self.http = http
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://") + \
            "/socket.io/?EIO=4&transport=websocket"
        self.handler = handler
        self.stats = stats
        self.headers = headers or {}
        self.auth = auth
        self.reconnect_max = reconnect_max
        self.clock = clock or time.time
        self.ws: Any = None
        self.connected = False
        self.closing = False
        self.refused = False
        self.acks: dict[int, Callable[[Any], None]] = {}
        self.next_ack = 0
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        """Connect, and keep reconnecting until `close`."""
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        attempts = 0
        while not self.closing and not self.refused:
            try:
                self.ws = await self.http.ws_connect(self.url, headers=self.headers, max_msg_size=0,
                                                     autoping=True, compress=0)
                attempts = 0
                await self._read()
            except asyncio.CancelledError:
                raise
            except Exception:  # any failure is a failed connection, retried as the page does
                self.stats["connect_failed"] += 1
            if self.connected:
                self.connected = False
                self.stats["disconnects"] += 1
                self.handler.on_disconnect()
            if self.closing or self.refused:
                break
            delay = min(self.reconnect_max, RECONNECT_DELAY * 2 ** attempts)
            delay *= 1 + RECONNECT_RANDOMIZATION * (2 * random.random() - 1)
            attempts += 1
            self.stats["reconnects"] += 1
            await asyncio.sleep(delay)

    async def _read(self) -> None:
        import aiohttp

        ws = self.ws
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
                continue
            text: str = msg.data
            self.stats["bytes"] += len(text) if text.isascii() else len(text.encode())
            self.stats["messages"] += 1
            kind = text[:1]
            if kind == "4":
                self._packet(text)
            elif kind == "2":
                await ws.send_str("3")
            elif kind == "0":
                await ws.send_str("40" + (json.dumps(self.auth, separators=(",", ":")) if self.auth else ""))
            elif kind == "1":
                break

    def _packet(self, text: str) -> None:
        sio_type = text[1:2]
        body = text[2:]
        if body.startswith("/"):  # a namespace other than the default: not used by the pages
            body = body.split(",", 1)[1] if "," in body else ""
        if sio_type == "2" or sio_type == "3":
            digits = 0
            while digits < len(body) and body[digits].isdigit():
                digits += 1
            ack_id = int(body[:digits]) if digits else None
            payload = PARSE_CACHE.loads(body[digits:]) if body[digits:] else []
            if sio_type == "2":
                if payload:
                    self.handler.on_event(payload[0], payload[1] if len(payload) > 1 else None, self.clock())
            elif ack_id is not None:
                callback = self.acks.pop(ack_id, None)
                if callback is not None:
                    callback(payload[0] if payload else None)
        elif sio_type == "0":
            self.connected = True
            self.stats["connects"] += 1
            self.handler.on_connect()
        elif sio_type == "4":  # connect_error: refused by the server, as the page it stays refused
            self.refused = True
            self.stats["refused"] += 1
            self.handler.first_snapshot.set()
        elif sio_type == "1":
            self.connected = False

    def emit(self, event: str, data: Any, ack: Callable[[Any], None] | None = None) -> None:
        """socket.emit(event, data[, ack])."""
        if self.ws is None or not self.connected:
            return
        ack_part = ""
        if ack is not None:
            self.next_ack += 1
            self.acks[self.next_ack] = ack
            ack_part = str(self.next_ack)
        text = "42" + ack_part + json.dumps([event, data], separators=(",", ":"))
        asyncio.ensure_future(self._send(text))

    async def _send(self, text: str) -> None:
        with contextlib.suppress(Exception):  # the connection is going away; the read loop reconnects
            await self.ws.send_str(text)

    async def close(self) -> None:
        """Disconnect for good."""
        self.closing = True
        if self.ws is not None:
            try:
                await self.ws.send_str("41")
                await self.ws.close()
            except Exception:
                pass
        if self.task is not None:
            self.task.cancel()
