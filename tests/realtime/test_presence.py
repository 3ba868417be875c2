"""Host-page presence: connect and heartbeat mark the point live; silence shows "signal lost"; it comes back."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db, socketio
from launch.models import Activity, User
from launch.services import presence
from tests.support.factories import make_event, point_of

BINH_THANH = "21046"


def issuer() -> User:
    """The district host of Bình Sơn: acts for Bình Thạnh's point, so the tokens it is issued are good."""
    return db.session.scalar(select(User).where(User.username == "dhost"))


def received(client, name):
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def kinds(point_id):
    return list(db.session.scalars(select(Activity.kind).where(Activity.event_point_id == point_id)
                                   .order_by(Activity.created_dt, Activity.id)))


@pytest.fixture
def event(users):
    return make_event(state="testing")


@pytest.fixture
def clients(app, as_user):
    made = []

    def factory(http=None, **kwargs):
        c = socketio.test_client(app, flask_test_client=http or app.test_client(), **kwargs)
        made.append(c)
        return c

    yield factory
    for c in made:
        if c.is_connected():
            c.disconnect()


def tile(message, point_id):
    return next(t for t in message["tiles"] if t["id"] == point_id)


def test_host_page_with_token_goes_live_and_heartbeats(app, event, clients, as_user):
    point = point_of(event, BINH_THANH)
    wall = clients(as_user("operator"), auth={"event": event.id})
    received(wall, "wall_snapshot")
    page = clients(auth={"point": point.id, "event": event.id, "token": presence.presence_token(point, issuer())})
    assert page.is_connected()
    [ack] = received(page, "presence_ack")
    assert ack["ok"] is True and ack["interval"] == presence.heartbeat_seconds()
    db.session.refresh(point)
    assert point.last_seen_dt is not None
    assert kinds(point.id) == ["presence_connected"]
    [delta] = received(wall, "wall_delta")
    assert tile(delta, point.id)["status"] == "live" and tile(delta, point.id)["page_live"] is True
    assert page.emit("heartbeat", {}, callback=True) == {"ok": True, "interval": presence.heartbeat_seconds()}
    assert received(wall, "wall_delta") == []  # a heartbeat that changes nothing sends nothing


def test_the_printed_qr_is_no_presence_credential(app, event, clients):
    """Issue 16: anyone who photographed the printed QR could make the point look live."""
    from launch.services import tokens

    point = point_of(event, BINH_THANH)
    assert not clients(auth={"point": point.id, "token": tokens.site_token(point)}).is_connected()


def test_revoked_token_is_refused(app, event, clients):
    point = point_of(event, BINH_THANH)
    token = presence.presence_token(point, issuer())
    point.token_version += 1
    db.session.commit()
    assert not clients(auth={"point": point.id, "token": token}).is_connected()


def test_token_of_another_point_is_refused(app, event, clients):
    point = point_of(event, BINH_THANH)
    other = point_of(event, "524")
    assert not clients(auth={"point": point.id, "token": presence.presence_token(other, issuer())}).is_connected()


def test_signed_in_host_may_connect_as_their_point_only(app, event, clients, as_user):
    point = point_of(event, BINH_THANH)
    assert clients(as_user("commune_host"), auth={"point": point.id}).is_connected()
    assert not clients(as_user("other_host"), auth={"point": point.id}).is_connected()


def test_wall_viewer_may_not_heartbeat_and_page_may_not_join_a_wall(app, event, clients, as_user):
    point = point_of(event, BINH_THANH)
    viewer = clients(as_user("viewer"))
    assert viewer.emit("heartbeat", {}, callback=True)["ok"] is False
    page = clients(auth={"point": point.id, "token": presence.presence_token(point, issuer())})
    assert page.emit("join", {"event": event.id}, callback=True)["ok"] is False


def test_silence_shows_signal_lost_then_the_point_comes_back(app, event, clients, as_user):
    point = point_of(event, BINH_THANH)
    timeout = app.config["PRESENCE_TIMEOUT_SECONDS"]
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        wall = clients(as_user("operator"), auth={"event": event.id})
        page = clients(auth={"point": point.id, "token": presence.presence_token(point, issuer())})
        wall.get_received()

        traveller.shift(timedelta(seconds=timeout - 1))
        assert presence.check_presence() == 0  # not silent long enough
        assert received(wall, "wall_delta") == []

        traveller.shift(timedelta(seconds=2))
        assert presence.check_presence() == 1
        [delta] = received(wall, "wall_delta")
        t = tile(delta, point.id)
        assert t["status"] == "signal_lost" and t["page_live"] is False and t["signal_lost"] is True
        assert "last_seen_at" not in t  # unchanged since the page connected: a delta carries what changed
        assert delta["feed"][0]["kind"] == "presence_lost"
        wall.emit("resync", {"event": event.id})
        snap = received(wall, "wall_snapshot")[0]
        assert next(a for a in snap["attention"] if a["id"] == point.id)["reason"] == "signal_lost"
        assert next(t for t in snap["tiles"] if t["id"] == point.id)["last_seen_at"] == iso(start)
        assert presence.check_presence() == 0  # recorded once

        traveller.shift(timedelta(seconds=30))
        assert page.emit("heartbeat", {}, callback=True)["ok"] is True
        [back] = received(wall, "wall_delta")
        assert tile(back, point.id)["status"] == "live"
    assert kinds(point.id) == ["presence_connected", "presence_lost", "presence_back"]


def test_check_presence_with_explicit_now(app, event):
    point = point_of(event, BINH_THANH)
    now = utcnow()
    assert presence.record_heartbeat(point.id, now=now) is True
    assert presence.record_heartbeat(point.id, now=now + timedelta(seconds=5)) is False
    later = now + timedelta(seconds=5 + app.config["PRESENCE_TIMEOUT_SECONDS"] + 1)
    assert presence.check_presence(now=later) == 1
    assert presence.check_presence(now=later) == 0
    assert presence.record_heartbeat(point.id, now=later) is True
    assert kinds(point.id) == ["presence_connected", "presence_lost", "presence_back"]


def test_ended_event_never_shows_signal_lost(app, event):
    point = point_of(event, BINH_THANH)
    presence.record_heartbeat(point.id, now=utcnow() - timedelta(hours=1))
    event.state = "ended"
    db.session.commit()
    assert presence.check_presence() == 0
    from launch.services import wall

    [t] = [t for t in wall.load_tiles(event) if t["id"] == point.id]
    assert t["status"] != "signal_lost"


def test_disconnect_keeps_last_seen(app, event, clients):
    point = point_of(event, BINH_THANH)
    page = clients(auth={"point": point.id, "token": presence.presence_token(point, issuer())})
    db.session.refresh(point)
    first = point.last_seen_dt
    page.disconnect()
    db.session.refresh(point)
    assert point.last_seen_dt >= first
