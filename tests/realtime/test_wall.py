"""The wall over Socket.IO: refusals, snapshot, numbered deltas, resync, district rooms, coalescing."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import Activity, Campaign, Unit
from launch.realtime import publisher, sequence
from launch.services import wall
from tests.support.factories import make_event, point_of

BINH_SON = "524"  # district (Huyện Bình Sơn)
BINH_THANH = "21046"  # commune of Bình Sơn (Xã Bình Thạnh)


def unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def received(client, name: str) -> list[dict]:
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def check_in(event, code: str, **fields) -> int:
    """Stand-in for the check-in service: write, commit, then announce."""
    point = point_of(event, code)
    point.checked_in_dt = fields.pop("at", utcnow())
    point.checkin_method = fields.pop("method", "qr")
    for key, value in fields.items():
        setattr(point, key, value)
    db.session.add(Activity(event_id=event.id, event_point_id=point.id, kind="site_checkin", data={}))
    db.session.commit()
    publisher.announce(event.id, "site_checkin", point.id)
    return point.id


@pytest.fixture
def event(users):
    return make_event()


@pytest.fixture
def sock(app, as_user):
    """sock("operator", auth={...}) -> a Socket.IO test client carrying that user's session."""
    made = []

    def factory(role: str | None = None, **kwargs):
        http = as_user(role) if role else app.test_client()
        c = socketio.test_client(app, flask_test_client=http, **kwargs)
        made.append(c)
        return c

    yield factory
    for c in made:
        if c.is_connected():
            c.disconnect()


# ---- refusals ---------------------------------------------------------------------------------

def test_anonymous_connection_is_refused(event, sock):
    assert not sock(None).is_connected()
    assert not sock(None, auth={"event": event.id}).is_connected()


def test_bad_point_token_is_refused(event, sock):
    point = point_of(event, BINH_THANH)
    assert not sock(None, auth={"point": point.id, "token": "forged"}).is_connected()


def test_host_may_not_join_the_whole_wall_or_another_district(event, sock):
    district_host = sock("district_host")
    assert district_host.is_connected()
    assert district_host.emit("join", {"event": event.id}, callback=True) == {"ok": False, "code": "forbidden"}
    other = unit_id("522")
    assert district_host.emit("join", {"event": event.id, "district": other}, callback=True)["ok"] is False
    assert received(district_host, "wall_snapshot") == []
    commune_host = sock("commune_host")
    assert commune_host.emit("join", {"event": event.id, "district": unit_id(BINH_SON)}, callback=True)["ok"] is False


def test_refused_join_on_connect_refuses_the_connection(event, sock):
    assert not sock("commune_host", auth={"event": event.id}).is_connected()


def test_each_connection_has_its_own_signed_in_user(event, sock):
    """The test keeps an app context pushed: a cached user must not leak between connections."""
    operator = sock("operator")
    host = sock("commune_host")
    viewer = sock("viewer")
    assert operator.emit("join", {"event": event.id}, callback=True)["ok"] is True
    assert host.emit("join", {"event": event.id}, callback=True)["ok"] is False
    assert viewer.emit("join", {"event": event.id}, callback=True)["ok"] is True


def test_join_unknown_event_is_refused(event, sock):
    assert sock("operator").emit("join", {"event": 999999}, callback=True)["ok"] is False


# ---- snapshot and deltas -----------------------------------------------------------------------

def test_join_sends_a_snapshot_of_every_point(event, sock):
    viewer = sock("viewer", auth={"event": event.id})
    assert viewer.is_connected()
    [snap] = received(viewer, "wall_snapshot")
    assert snap["room"] == f"wall:{event.id}"
    assert snap["seq"] == sequence.current(f"wall:{event.id}")
    assert len(snap["tiles"]) == 187
    assert snap["tiles"][0]["is_host"] is True
    assert {t["status"] for t in snap["tiles"]} == {"invited"}
    assert snap["counters"]["invited"] == 186
    assert snap["counters"]["checked_in"] == 0
    assert snap["counters"]["levels"] == {"district": {"invited": 13, "checked_in": 0},
                                          "commune": {"invited": 173, "checked_in": 0}}
    assert len(snap["counters"]["districts"]) == 13
    # district then its communes, grouped
    groups = [t["district_id"] for t in snap["tiles"][1:]]
    assert groups == sorted(groups, key=groups.index)
    assert len(snap["attention"]) == 186


def test_check_in_reaches_the_wall_as_a_numbered_delta(event, sock):
    viewer = sock("viewer", auth={"event": event.id})
    [snap] = received(viewer, "wall_snapshot")
    point_id = check_in(event, BINH_THANH, headcount=31)
    [delta] = received(viewer, "wall_delta")
    assert delta["seq"] == snap["seq"] + 1
    assert [t["id"] for t in delta["tiles"]] == [point_id]
    tile = delta["tiles"][0]
    assert tile["status"] == "checked_in" and tile["checked_in"] is True and tile["headcount"] == 31
    assert delta["counters"]["checked_in"] == 1
    assert delta["feed"][0]["kind"] == "site_checkin" and delta["feed"][0]["point_id"] == point_id

    check_in(event, "524")
    [second] = received(viewer, "wall_delta")
    assert second["seq"] == delta["seq"] + 1
    assert second["counters"]["checked_in"] == 2


def test_district_wall_gets_only_its_district(event, sock):
    district = unit_id(BINH_SON)
    host = sock("district_host")
    assert host.emit("join", {"event": event.id, "district": district}, callback=True) == {
        "ok": True, "room": f"wall:{event.id}:d:{district}"}
    [snap] = received(host, "wall_snapshot")
    assert {t["district_id"] for t in snap["tiles"]} == {district}
    assert len(snap["tiles"]) == 23  # the district and its 22 communes
    assert snap["counters"]["invited"] == 23

    check_in(event, "525")  # a point of another district: nothing for this wall
    assert received(host, "wall_delta") == []
    point_id = check_in(event, BINH_THANH)
    [delta] = received(host, "wall_delta")
    assert [t["id"] for t in delta["tiles"]] == [point_id]
    assert delta["seq"] == snap["seq"] + 1  # numbered per room: the other district's change used no number here
    assert delta["counters"]["checked_in"] == 1


def test_event_level_change_reaches_every_district_wall(event, sock):
    district = unit_id(BINH_SON)
    host = sock("district_host")
    host.emit("join", {"event": event.id, "district": district})
    host.get_received()
    event.state = "testing"
    db.session.commit()
    publisher.announce(event.id, "state")
    [first] = received(host, "wall_delta")
    # the sender's first delta of an event sends its tiles whole (it cannot know what viewers hold)
    assert first["event"]["state"] == "testing" and len(first["tiles"]) == 23 and first["full"] is True
    event.state = "live"
    db.session.commit()
    publisher.announce(event.id, "state")
    [delta] = received(host, "wall_delta")
    assert delta["event"]["state"] == "live" and delta["tiles"] == []  # no tile changed
    assert delta["counters"] == {} and "full" not in delta


def test_gap_then_resync_gives_the_database_truth(event, sock):
    """A client that missed a delta asks `resync` and gets a snapshot that includes everything."""
    viewer = sock("viewer", auth={"event": event.id})
    [snap] = received(viewer, "wall_snapshot")
    room = snap["room"]
    # a delta the client never saw (e.g. lost while reconnecting): the number is used up
    missed = point_of(event, "522")
    missed.checked_in_dt = utcnow()
    db.session.commit()
    sequence.next_seq(room)
    check_in(event, BINH_THANH)
    [delta] = received(viewer, "wall_delta")
    assert delta["seq"] == snap["seq"] + 2  # the client sees the gap
    viewer.emit("resync", {"event": event.id})
    [fresh] = received(viewer, "wall_snapshot")
    assert fresh["seq"] == delta["seq"]
    statuses = {t["id"]: t["status"] for t in fresh["tiles"]}
    assert statuses[missed.id] == "checked_in"
    assert fresh["counters"]["checked_in"] == 2


def test_reconnect_gets_a_fresh_snapshot(event, sock):
    first = sock("operator", auth={"event": event.id})
    first.get_received()
    first.disconnect()
    check_in(event, BINH_THANH)
    again = sock("operator", auth={"event": event.id})
    [snap] = received(again, "wall_snapshot")
    assert snap["counters"]["checked_in"] == 1
    assert snap["seq"] == sequence.current(snap["room"])


def test_snapshot_json_matches_socket_snapshot(event, sock, as_user):
    check_in(event, BINH_THANH)
    resp = as_user("viewer").get(f"/wall/{event.id}/snapshot.json")
    assert resp.status_code == 200
    assert resp.json["counters"]["checked_in"] == 1
    assert resp.json["seq"] == sequence.current(f"wall:{event.id}")


# ---- coalescing ---------------------------------------------------------------------------------

@pytest.fixture
def coalescing(app):
    app.config.update(WALL_COALESCE_SECONDS=0.25, WALL_AUTOFLUSH=False)
    yield app


def test_burst_of_check_ins_becomes_one_message_per_room(event, sock, coalescing):
    viewer = sock("viewer", auth={"event": event.id})
    district = unit_id(BINH_SON)
    host = sock("district_host")
    host.emit("join", {"event": event.id, "district": district})
    [snap] = received(viewer, "wall_snapshot")
    host.get_received()

    points = db.session.scalars(select(wall.EventPoint).where(wall.EventPoint.event_id == event.id,
                                                              wall.EventPoint.is_host.is_(False))).all()
    now = utcnow()
    for p in points[:150]:
        p.checked_in_dt = now
        p.checkin_method = "qr"
    db.session.commit()
    for p in points[:150]:
        publisher.announce(event.id, "site_checkin", p.id)
        publisher.announce(event.id, "headcount", p.id)
    assert received(viewer, "wall_delta") == []  # nothing sent yet: buffered

    statements = []

    def count(*_args):
        statements.append(1)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        sent = publisher.flush()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    [delta] = received(viewer, "wall_delta")
    assert delta["seq"] == snap["seq"] + 1
    assert len(delta["tiles"]) == 150
    assert delta["counters"]["checked_in"] == 150
    district_deltas = received(host, "wall_delta")
    assert len(district_deltas) == 1
    district_of = {t["id"]: t["district_id"] for t in snap["tiles"]}  # deltas carry changing fields only
    assert sent == 1 + len({district_of[t["id"]] for t in delta["tiles"]})
    assert "name" not in delta["tiles"][0] and "attendees" in delta["tiles"][0]
    # the database work of a flush does not grow with the number of changes
    one_change_statements = len(statements)
    check_point = points[151]
    check_point.checked_in_dt = now
    db.session.commit()
    publisher.announce(event.id, "site_checkin", check_point.id)
    statements.clear()
    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        publisher.flush()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= one_change_statements
    assert publisher.flush() == 0  # nothing left


def test_background_flusher_sends_the_buffer(event, sock, app):
    app.config.update(WALL_COALESCE_SECONDS=0.05, WALL_AUTOFLUSH=True)
    viewer = sock("viewer", auth={"event": event.id})
    viewer.get_received()
    point = point_of(event, BINH_THANH)
    point.checked_in_dt = utcnow()
    db.session.commit()
    for _ in range(20):
        publisher.announce(event.id, "site_checkin", point.id)
    deadline = time.monotonic() + 10
    deltas: list = []
    while not deltas and time.monotonic() < deadline:
        deltas = received(viewer, "wall_delta")
        time.sleep(0.02)
    assert len(deltas) == 1
    assert deltas[0]["tiles"][0]["status"] == "checked_in"


# ---- campaigns ------------------------------------------------------------------------------------

def test_campaign_room_join_and_update(app, users, sock):
    campaign = Campaign(**_campaign_fields())
    db.session.add(campaign)
    db.session.commit()
    viewer = sock("viewer")
    assert viewer.emit("join", {"room": f"campaign:{campaign.id}"}, callback=True) == {
        "ok": True, "room": f"campaign:{campaign.id}"}
    publisher.campaign_updated(campaign.id)
    assert received(viewer, "campaign_update") == [{"campaign_id": campaign.id}]
    assert viewer.emit("join", {"room": "campaign:999999"}, callback=True)["ok"] is False


def _campaign_fields() -> dict:
    """The required columns of a Campaign, whatever the campaigns feature added."""
    from datetime import date

    from sqlalchemy import Date, DateTime, Integer, String, Text

    fields: dict = {}
    for column in Campaign.__table__.columns:
        if column.primary_key or column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.foreign_keys:
            continue
        kind = column.type
        if isinstance(kind, String | Text):
            fields[column.key] = "Chiến dịch thử"
        elif isinstance(kind, Integer):
            fields[column.key] = 1
        elif isinstance(kind, DateTime):
            fields[column.key] = utcnow()
        elif isinstance(kind, Date):
            fields[column.key] = date.today()
        else:
            fields[column.key] = utcnow()
    return fields
