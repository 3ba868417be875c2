"""The wall's deltas: self-consistent, compact, incremental; snapshots encoded once; the flusher's cadence.

A viewer here applies snapshots and deltas exactly as wall.js does (tiles merged field by field,
counters merged as values or replaced when `full`, feed rows merged by id) and checks, after every
delta, wall.js's counter check: the tiles it holds add up to the counters it holds.
"""
from __future__ import annotations

import copy
import json
import secrets

import pytest

from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import Activity, Attendee, AttendeeCheckin
from launch.realtime import deltas, publisher, sequence, snapshots, wire
from launch.services import wall
from tests.support.factories import make_event, point_of
from tests.support.processes import wait_until

BINH_THANH, BINH_SON, TRA_BONG = "21046", "524", "525"
QUANG_NGAI_WARD = "21010"  # Phường Lê Hồng Phong, of the city (522)


class Viewer:
    """wall.js's state, in Python: what a page holds after its snapshot and the deltas since."""

    def __init__(self, client) -> None:
        self.client = client
        self.seq: int | None = None
        self.tiles: dict[int, dict] = {}
        self.counters: dict = {}
        self.feed: list[dict] = []
        self.deltas: list[dict] = []
        self.disagreements = 0
        self.take()

    def take(self) -> list[dict]:
        """Apply what arrived; returns the deltas applied."""
        applied = []
        for m in self.client.get_received():
            data = m["args"][0]
            if m["name"] == "wall_snapshot":
                self.seq, self.counters, self.feed = data["seq"], copy.deepcopy(data["counters"]), data["feed"]
                self.tiles = {t["id"]: t for t in data["tiles"]}
            elif m["name"] == "wall_delta" and self.seq is not None and data["seq"] > self.seq:
                assert data["seq"] == self.seq + 1, "a gap"
                self.seq = data["seq"]
                for t in data["tiles"]:
                    self.tiles[t["id"]] = {**self.tiles[t["id"]], **t}
                if data.get("full"):
                    self.counters = copy.deepcopy(data["counters"])
                else:
                    deltas.merge_values(self.counters, data["counters"])
                seen = {a["id"] for a in data["feed"]}
                self.feed = (data["feed"] + [a for a in self.feed if a["id"] not in seen])[:wall.FEED_LENGTH]
                self.disagreements += not self.agrees()
                self.deltas.append(data)
                applied.append(data)
        return applied

    def agrees(self) -> bool:
        """wall.js agreesWithCounters."""
        checked = sum(1 for t in self.tiles.values() if not t["is_host"] and t["checked_in"])
        attendees = sum(t["attendees"] for t in self.tiles.values())
        return checked == self.counters["checked_in"] and attendees == self.counters["attendee_checkins"]


@pytest.fixture
def event(users):
    return make_event(state="live")


@pytest.fixture
def viewer(app, as_user, event):
    client = socketio.test_client(app, flask_test_client=as_user("viewer"), auth={"event": event.id})
    yield Viewer(client)
    client.disconnect()


def commit_check_in(event, code: str) -> int:
    """A point checked in and committed, NOT announced yet (the service announces just after)."""
    point = point_of(event, code)
    point.checked_in_dt = utcnow()
    point.checkin_method = "qr"
    db.session.add(Activity(event_id=event.id, event_point_id=point.id, kind="site_checkin", data={}))
    db.session.commit()
    return point.id


def commit_attendee(event, code: str) -> int:
    """One attendee checked in at the point (committed, not announced).

    The person is on no unit's list: a point expects its unit's people on the roster, and a roster
    is imported before the event, so a check-in never moves the point's expected figure."""
    point = point_of(event, code)
    person = Attendee(event_id=event.id, unit_id=None, full_name="Nguyễn Văn A", search_name="nguyen van a",
                      badge_code=secrets.token_hex(8))
    db.session.add(person)
    db.session.flush()
    db.session.add(AttendeeCheckin(event_id=event.id, attendee_id=person.id, event_point_id=point.id,
                                   client_id=secrets.token_hex(8), scanned_dt=utcnow(), method="scan"))
    db.session.add(Activity(event_id=event.id, event_point_id=point.id, kind="attendee_checkin",
                            data={"attendee_id": person.id, "name": person.full_name}))
    db.session.commit()
    return point.id


# ---- 1. self-consistent ---------------------------------------------------------------------------

def test_counters_always_add_up_to_the_tiles_sent_even_when_a_commit_races_the_flush(event, viewer):
    """The race that caused the resync storms: a point committed but not yet announced when a flush
    reads. Its tile is not in the delta, so neither may it be in the delta's counters."""
    first = commit_check_in(event, BINH_THANH)
    publisher.announce(event.id, "site_checkin", first)
    racing = commit_check_in(event, BINH_SON)  # committed ...
    third = commit_check_in(event, TRA_BONG)
    publisher.announce(event.id, "site_checkin", third)  # ... while another point's flush runs
    publisher.announce(event.id, "site_checkin", racing)  # ... and announced only afterwards
    applied = viewer.take()
    assert len(applied) == 3
    assert viewer.disagreements == 0
    assert [d["counters"].get("checked_in") for d in applied] == [1, 2, 3]
    assert viewer.tiles[racing]["status"] == "checked_in"


def test_a_viewer_never_disagrees_over_a_run_of_mixed_changes(event, viewer, app):
    publisher.announce(event.id, "state")  # the sender's model of the event exists (see the next test)
    app.config.update(WALL_COALESCE_SECONDS=0.25, WALL_AUTOFLUSH=False)
    codes = [BINH_THANH, BINH_SON, TRA_BONG, "522", QUANG_NGAI_WARD]
    for round_ in range(3):
        for n, code in enumerate(codes):
            pid = commit_attendee(event, code) if (n + round_) % 2 else commit_check_in(event, code)
            if n % 2 == 0:
                publisher.announce(event.id, "attendee_checkin", pid)
        publisher.flush()
        for code in codes:  # the late announcements of this round
            publisher.announce(event.id, "attendee_checkin", point_of(event, code).id)
    publisher.flush()
    viewer.take()
    assert viewer.deltas and viewer.disagreements == 0
    fresh = snapshots.snapshot(event.id)
    assert viewer.counters == fresh["counters"]
    assert {t["id"]: t["attendees"] for t in fresh["tiles"]} == {i: t["attendees"] for i, t in viewer.tiles.items()}


def test_a_new_senders_first_read_may_be_ahead_only_until_the_next_flush(event, viewer):
    """A new sender (a restart, a lease taken over) reads every tile once: a point committed and not
    yet announced at that moment is counted before its tile is sent. Its announcement follows its
    commit, so the next flush sends the tile whole: wall.js's counter check waits longer than that."""
    silent = commit_check_in(event, BINH_SON)  # committed; its announcement is on its way
    publisher.announce(event.id, "site_checkin", commit_check_in(event, BINH_THANH))
    [first] = viewer.take()
    assert first["full"] is True and first["counters"]["checked_in"] == 2 and not viewer.agrees()
    publisher.announce(event.id, "site_checkin", silent)
    [second] = viewer.take()
    assert second["tiles"][0]["id"] == silent and "status" in second["tiles"][0] and "code" not in second["tiles"][0]
    assert viewer.agrees() and second["counters"] == {}


# ---- 3. compact -----------------------------------------------------------------------------------

def test_a_delta_carries_only_changed_fields_changed_counters_and_new_feed_rows(event, viewer):
    pid = commit_attendee(event, BINH_THANH)
    publisher.announce(event.id, "attendee_checkin", pid)
    viewer.take()
    pid = commit_attendee(event, BINH_THANH)
    publisher.announce(event.id, "attendee_checkin", pid)
    [delta] = viewer.take()
    assert delta["tiles"] == [{"id": pid, "attendees": 2}]
    assert delta["counters"] == {"attendees_present": 2, "attendee_checkins": 2}
    [row] = delta["feed"]
    assert set(row) == {"id", "kind", "at", "point_id"} and row["kind"] == "attendee_checkin"
    assert "event" not in delta and "full" not in delta
    # one attendee check-in costs a viewer about a hundred bytes (plus Socket.IO's few)
    assert len(wire.dumps(["wall_delta", delta]).encode()) < 250
    assert viewer.disagreements == 0


def test_district_counters_merge_by_id(event, app, as_user):
    client = socketio.test_client(app, flask_test_client=as_user("viewer"), auth={"event": event.id})
    v = Viewer(client)
    publisher.announce(event.id, "site_checkin", commit_check_in(event, BINH_THANH))
    publisher.announce(event.id, "site_checkin", commit_check_in(event, TRA_BONG))
    [_first, second] = v.take()
    assert len(second["counters"]["districts"]) == 1  # only the district whose figure moved
    assert set(second["counters"]["districts"][0]) == {"id", "checked_in"}
    assert v.counters == snapshots.snapshot(event.id)["counters"]
    client.disconnect()


def test_a_changed_field_of_any_name_flows_through(event, viewer, monkeypatch):
    """Tiles are diffed key by key: a key the read model adds tomorrow reaches viewers unchanged."""
    load = wall.load_tiles

    def with_extra(ev, point_ids=None, now=None):
        tiles = load(ev, point_ids, now)
        for t in tiles:
            t["badge_colour"] = "green" if t["checked_in"] else "grey"
        return tiles

    monkeypatch.setattr(wall, "load_tiles", with_extra)
    pid = commit_check_in(event, BINH_THANH)
    publisher.announce(event.id, "site_checkin", pid)
    pid2 = commit_check_in(event, BINH_SON)
    publisher.announce(event.id, "site_checkin", pid2)
    first, second = viewer.take()
    assert first["tiles"][0]["badge_colour"] == "green"  # a new sender's first delta: the tile whole
    assert second["tiles"][0]["badge_colour"] == "green" and "name" not in second["tiles"][0]


# ---- 4. incremental -------------------------------------------------------------------------------

def test_a_flush_reads_only_the_changed_points(event, viewer, monkeypatch):
    publisher.announce(event.id, "site_checkin", commit_check_in(event, BINH_THANH))  # the model is built
    reads: list = []
    load = wall.load_tiles

    def spy(ev, point_ids=None, now=None):
        reads.append(None if point_ids is None else set(point_ids))
        return load(ev, point_ids, now)

    monkeypatch.setattr(wall, "load_tiles", spy)
    pid = commit_check_in(event, BINH_SON)
    publisher.announce(event.id, "site_checkin", pid)
    assert reads == [{pid}]
    assert viewer.take()[-1]["counters"]["checked_in"] == 2


def test_an_unsent_delta_drops_the_model_and_the_next_one_is_whole(event, viewer, monkeypatch):
    publisher.announce(event.id, "site_checkin", commit_check_in(event, BINH_THANH))
    viewer.take()

    def broken(room):
        raise RuntimeError("Redis away")

    monkeypatch.setattr(sequence, "next_seq", broken)
    pid = commit_check_in(event, BINH_SON)
    publisher.announce(event.id, "site_checkin", pid)  # logged, not raised
    monkeypatch.undo()
    pid2 = commit_attendee(event, BINH_SON)
    publisher.announce(event.id, "attendee_checkin", pid2)
    [delta] = viewer.take()
    assert delta["full"] is True and delta["counters"]["checked_in"] == 2
    assert delta["tiles"][0]["status"] == "checked_in"  # sent whole by the fresh model


# ---- snapshots: once per room and number ----------------------------------------------------------

def test_a_snapshot_is_built_and_encoded_once_per_room_and_number(event, app, as_user, monkeypatch):
    app.config.update(WALL_SNAPSHOT_CACHE_SECONDS=3600)
    built = []
    full_view = snapshots.full_view
    monkeypatch.setattr(snapshots, "full_view", lambda *a, **k: built.append(a) or full_view(*a, **k))
    encoded = []
    original = wire.Encoded.__init__

    def counting(self, value):
        encoded.append(1)
        original(self, value)

    monkeypatch.setattr(wire.Encoded, "__init__", counting)
    clients = [socketio.test_client(app, flask_test_client=as_user("viewer"), auth={"event": event.id})
               for _ in range(5)]
    snaps = [[m["args"][0] for m in c.get_received() if m["name"] == "wall_snapshot"][0] for c in clients]
    assert len(built) == 1 and len(encoded) == 1
    assert all(s == snaps[0] for s in snaps)
    publisher.announce(event.id, "site_checkin", commit_check_in(event, BINH_THANH))  # the number moves
    clients[0].emit("resync", {"event": event.id})
    assert len(built) == 2
    [fresh] = [m["args"][0] for m in clients[0].get_received() if m["name"] == "wall_snapshot"]
    assert fresh["counters"]["checked_in"] == 1
    for c in clients:
        c.disconnect()


def test_the_wire_keeps_utf8_and_reuses_an_encoded_payload():
    snap = wire.Encoded({"name": "Xã Bình Thạnh", "n": 1})
    assert snap.text == '{"name":"Xã Bình Thạnh","n":1}'
    snap.text = '{"reused":true}'  # the text is what goes out, not a new encoding
    assert wire.dumps(["wall_snapshot", snap]) == '["wall_snapshot",{"reused":true}]'
    assert json.loads(wire.dumps({"bad": "\ud800"})) == {"bad": "\ud800"}  # a lone surrogate: escaped


# ---- 2. coalescing cadence ------------------------------------------------------------------------

class _Stop(BaseException):
    pass


def test_the_flusher_waits_out_the_interval_and_never_exits_when_idle(app, monkeypatch):
    """A fake clock: the first change after a quiet spell goes at once (a few ms), changes within the
    interval wait for its end, and an idle spell does not end the loop."""
    now = {"t": 100.0}
    sleeps: list[float] = []
    flushes: list[float] = []
    state = publisher._Buffer()
    gaps = {1: 0.1, 2: 0.05, 3: 5.0}  # after flush n, the next change comes this much later

    def fake_sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 3))
        now["t"] += seconds

    def fake_flush(_app=None) -> int:
        flushes.append(round(now["t"], 3))
        if len(flushes) == 4:
            raise _Stop
        now["t"] += gaps[len(flushes)]
        state.wake.set()  # the next change arrives
        return 1

    monkeypatch.setattr(publisher, "_clock", lambda: now["t"])
    monkeypatch.setattr(publisher, "_sleep", fake_sleep)
    monkeypatch.setattr(publisher, "flush", fake_flush)
    state.wake.set()
    with pytest.raises(_Stop):
        publisher._flusher_loop(app, state, 0.25)
    assert flushes == [100.02, 100.27, 100.52, 105.54]
    assert sleeps == [0.02, 0.15, 0.2, 0.02]  # leading edge; the interval's end (twice); quiet again: leading


def test_a_trickle_of_changes_is_served_by_one_flusher_that_stays(event, viewer, app):
    app.config.update(WALL_COALESCE_SECONDS=0.05, WALL_AUTOFLUSH=True)
    state = publisher._buffer(app)
    for n, code in enumerate((BINH_THANH, BINH_SON, TRA_BONG), start=1):
        publisher.announce(event.id, "site_checkin", commit_check_in(event, code))
        wait_until(lambda n=n: viewer.take() is not None and viewer.counters["checked_in"] == n, 10,
                   f"check-in {n} on the wall", interval=0.02)
        wait_until(lambda: not publisher.pending(app), 10, "the buffer to empty", interval=0.02)
        assert state.flusher_alive  # idle between the changes: the same loop is still there
    assert viewer.disagreements == 0
