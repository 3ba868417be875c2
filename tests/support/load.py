"""What the real-process tests send and watch: a sign-in through the real form, check-ins through
the JSON API with a Bearer token, and a wall client that follows the protocol."""
from __future__ import annotations

import contextlib
import copy
import re
import threading
import uuid
from typing import Any

import requests

from tests.support.processes import wait_until

UA = "launch-fault-test"


def login_cookie(url: str, username: str, password: str) -> str:
    """Sign in through the real form (CSRF included); the Cookie header (production cookies are Secure,
    so a client on plain http would not send them back by itself)."""
    http = requests.Session()
    http.headers["User-Agent"] = UA
    page = http.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    cookies = {c.name: c.value for c in http.cookies}
    resp = requests.post(url + "/login", data={"username": username, "password": password,
                                               "csrf_token": token.group(1) if token else ""},
                         headers={"User-Agent": UA, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
                         allow_redirects=False, timeout=10)
    assert resp.status_code == 302, f"sign-in failed: {resp.status_code} {resp.text[:300]}"
    for header in resp.raw.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name.strip()] = rest.split(";", 1)[0]
    assert "session" in cookies, "no session cookie after sign-in"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def client_id() -> str:
    return uuid.uuid4().hex


def attendee_checkin(url: str, api_token: str, point_id: int, attendee_id: int, cid: str,
                     timeout: float = 10) -> requests.Response:
    """POST one attendee check-in through the JSON API with a Bearer token."""
    return requests.post(f"{url}/api/v1/points/{point_id}/attendee-checkins",
                         json={"attendee_id": attendee_id, "client_id": cid},
                         headers={"Authorization": f"Bearer {api_token}", "User-Agent": UA}, timeout=timeout)


def site_checkin(url: str, api_token: str, token: str, timeout: float = 10) -> requests.Response:
    return requests.post(f"{url}/api/v1/site-checkins", json={"token": token},
                         headers={"Authorization": f"Bearer {api_token}", "User-Agent": UA}, timeout=timeout)


# --- a wall client ---------------------------------------------------------------------------------

class WallClient:
    """A wall viewer that follows the documented protocol (launch/realtime/publisher.py): a snapshot on
    (re)connect (auth={"event": id} joins), then numbered deltas; a delta at or below the last number is
    dropped, the next one applied, a gap waited for briefly and then resynchronised.

    Handlers of python-socketio's client may run in separate threads: everything is under one lock.
    """

    GAP_GRACE = 1.0

    def __init__(self, url: str, cookie: str, event_id: int, name: str = "wall") -> None:
        import socketio

        self.url, self.cookie, self.event_id, self.name = url, cookie, event_id, name
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.3, reconnection_delay_max=1.5,
                                   randomization_factor=0.2)
        self.lock = threading.RLock()
        self.seq: int | None = None
        self.room = f"wall:{event_id}"
        self.tiles: dict[int, dict[str, Any]] = {}
        self.event: dict[str, Any] | None = None
        self.counters: dict[str, Any] | None = None
        self.pending: dict[int, dict[str, Any]] = {}
        self.gap_timer: threading.Timer | None = None
        self.connects = self.disconnects = self.snapshots = self.deltas = self.resyncs = 0
        self.events_seen: list[tuple[str, Any]] = []
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("wall_snapshot", self._on_snapshot)
        self.sio.on("wall_delta", self._on_delta)
        self.sio.on("wall_tick", self._on_tick)

    def connect(self, timeout: float = 15) -> None:
        self.sio.connect(self.url, headers={"Cookie": self.cookie, "User-Agent": UA}, transports=["websocket"],
                         auth={"event": self.event_id}, wait_timeout=timeout)
        wait_until(lambda: self.seq is not None, timeout, f"{self.name}'s first snapshot")

    def close(self) -> None:
        with self.lock:
            if self.gap_timer is not None:
                self.gap_timer.cancel()
        with contextlib.suppress(Exception):
            self.sio.disconnect()

    # -- protocol
    def _on_connect(self) -> None:
        # The join's snapshot comes with the handshake (and may be handled first: one thread per message);
        # the number was already reset on disconnect.
        with self.lock:
            self.connects += 1

    def _on_disconnect(self, *args: Any) -> None:
        with self.lock:
            self.disconnects += 1
            self.seq = None

    def _on_snapshot(self, snap: dict[str, Any]) -> None:
        with self.lock:
            if snap.get("room") != self.room:
                return
            self.snapshots += 1
            self.seq = snap["seq"]
            self.tiles = {t["id"]: t for t in snap["tiles"]}
            self.event, self.counters = snap["event"], snap["counters"]
            self.pending = {k: v for k, v in self.pending.items() if k > self.seq}
            self._drain()

    def _on_delta(self, delta: dict[str, Any]) -> None:
        with self.lock:
            self.events_seen.append(("delta", delta.get("seq")))
            if delta.get("room") != self.room or self.seq is None or delta["seq"] <= self.seq:
                return
            self.pending[delta["seq"]] = delta
            self._drain()
            if self.pending and self.gap_timer is None:
                self.gap_timer = threading.Timer(self.GAP_GRACE, self._gap_expired)
                self.gap_timer.daemon = True
                self.gap_timer.start()

    def _on_tick(self, tick: dict[str, Any]) -> None:
        with self.lock:
            self.events_seen.append(("tick", tick.get("seq")))
            if tick.get("room") != self.room or self.seq is None or tick["seq"] <= self.seq \
                    or self.gap_timer is not None:
                return
            # As wall.js: the room is ahead of us and nothing shows a gap (the last deltas were lost)
            self.gap_timer = threading.Timer(self.GAP_GRACE, self._behind_expired, args=(tick["seq"],))
            self.gap_timer.daemon = True
            self.gap_timer.start()

    def _behind_expired(self, seq: int) -> None:
        with self.lock:
            self.gap_timer = None
            if self.seq is not None and self.seq >= seq:
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    def _drain(self) -> None:
        while self.seq is not None and (self.seq + 1) in self.pending:
            delta = self.pending.pop(self.seq + 1)
            self.seq = delta["seq"]
            self.deltas += 1
            for tile in delta["tiles"]:  # deltas carry the changed fields: merge them into the tile
                self.tiles[tile["id"]] = {**self.tiles.get(tile["id"], {}), **tile}
            self.event = delta.get("event") or self.event
            if delta.get("full") or self.counters is None:
                self.counters = delta["counters"]
            else:  # the changed counters, as values
                from launch.realtime.deltas import merge_values

                self.counters = merge_values(copy.deepcopy(self.counters), delta["counters"])
        if not self.pending and self.gap_timer is not None:
            self.gap_timer.cancel()
            self.gap_timer = None
        if not self.pending and self.gap_timer is None and not self._agrees_with_counters():
            # As wall.js: tiles that do not add up to the room's counters mean a lost update: resync.
            self.pending = {}
            self.gap_timer = threading.Timer(self.GAP_GRACE, self._mismatch_expired)
            self.gap_timer.daemon = True
            self.gap_timer.start()

    def _agrees_with_counters(self) -> bool:
        c = self.counters
        if not c:
            return True
        checked = sum(1 for t in self.tiles.values() if not t["is_host"] and t["checked_in"])
        attendees = sum(t["attendees"] for t in self.tiles.values())
        return checked == c["checked_in"] and attendees == c["attendee_checkins"]

    def _mismatch_expired(self) -> None:
        with self.lock:
            self.gap_timer = None
            if self._agrees_with_counters():
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    def _gap_expired(self) -> None:
        with self.lock:
            self.gap_timer = None
            if not self.pending:
                return
            self.resyncs += 1
        with contextlib.suppress(Exception):
            self.sio.emit("resync", {"event": self.event_id})

    # -- reading
    def attendees(self) -> dict[int, int]:
        with self.lock:
            return {pid: t["attendees"] for pid, t in self.tiles.items() if t["attendees"]}

    def state(self) -> str | None:
        with self.lock:
            return self.event["state"] if self.event else None

    def describe(self) -> str:
        with self.lock:
            return (f"{self.name}: seq={self.seq} connects={self.connects} disconnects={self.disconnects} "
                    f"snapshots={self.snapshots} deltas={self.deltas} resyncs={self.resyncs} "
                    f"pending={sorted(self.pending)[:5]} attendees={sum(self.attendees().values())}")
