"""Scaled out, one process at a time sends the wall deltas: the shared buffer and lease in Redis.

Against the real Redis of this machine (a service test: skipped only outside CI when Redis is
away), at REDIS_TEST_URL and under this suite's own key prefix (nothing else is read, written or
flushed). The app under test gets REDIS_URL after it is built, so its Socket.IO server stays local
(the test client receives what it sends) while the buffer, the lease and the numbers live in Redis.
"""
from __future__ import annotations

import secrets
import time

import pytest
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import EventPoint
from launch.realtime import publisher, relay
from launch.realtime.relay import WallRelay
from tests.support.factories import make_event, point_of
from tests.support.services import REDIS_TEST_URL, redis_prefix, service_missing

REDIS_URL = REDIS_TEST_URL
BINH_THANH = "21046"


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        service_missing("Redis", str(exc))
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    """A key prefix of this test's own; its keys are removed afterwards."""
    name = f"{redis_prefix('relay')}-{secrets.token_hex(4)}"
    yield name
    keys = list(redis_client.scan_iter(f"{name}:*"))
    if keys:
        redis_client.delete(*keys)


def other_process(redis_client, prefix: str) -> WallRelay:
    """The relay another process would have (its own token)."""
    return WallRelay(redis_client, prefix)


def test_changes_wait_in_redis_until_drained_once(redis_client, prefix):
    mine = WallRelay(redis_client, prefix)
    theirs = other_process(redis_client, prefix)
    mine.add(7, 101)
    theirs.add(7, 102)
    theirs.add(7, 101)
    mine.add(7, None)
    mine.add(8, 5)
    assert redis_client.llen(f"{prefix}:wall:wake") == 1  # one wake-up, however many changes
    assert mine.drain() == {7: {101, 102, None}, 8: {5}}
    assert mine.drain() == {}
    assert redis_client.llen(f"{prefix}:wall:wake") == 0


def test_one_lease_holder_at_a_time_and_release_hands_over(redis_client, prefix):
    a, b = WallRelay(redis_client, prefix), other_process(redis_client, prefix)
    assert a.hold_lease() == (True, True)
    assert a.hold_lease() == (True, False)  # renewed, not newly acquired
    assert b.hold_lease() == (False, False)
    b.release_lease()  # not its lease: nothing happens
    assert b.hold_lease() == (False, False)
    a.release_lease()
    assert b.hold_lease() == (True, True)
    assert a.hold_lease() == (False, False)


def test_a_dead_holders_lease_expires_and_another_takes_over(redis_client, prefix, monkeypatch):
    monkeypatch.setattr(relay, "LEASE_SECONDS", 0.3)
    a, b = WallRelay(redis_client, prefix), other_process(redis_client, prefix)
    assert a.hold_lease()[0]
    assert b.hold_lease() == (False, False)
    deadline = time.monotonic() + 10
    while not b.hold_lease()[0]:  # a never renews: it died
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.05)
    assert a.hold_lease() == (False, False)


def test_a_drain_never_marked_sent_tells_the_next_holder(redis_client, prefix):
    a, b = WallRelay(redis_client, prefix), other_process(redis_client, prefix)
    a.add(3, 9)
    assert a.drain() == {3: {9}}
    assert b.predecessor_died_sending()
    a.sent()
    assert not b.predecessor_died_sending()
    assert a.drain() == {}
    assert not b.predecessor_died_sending()  # an empty drain marks nothing


# --- the publisher on top of it ----------------------------------------------------------------------

@pytest.fixture
def scaled_app(app, prefix):
    app.config.update(REDIS_URL=REDIS_URL, WALL_SEQ_PREFIX=prefix, WALL_COALESCE_SECONDS=0.0)
    return app


def deltas_of(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received() if m["name"] == "wall_delta"]


def test_announce_goes_through_redis_and_the_lease_holder_sends_it(scaled_app, as_user, redis_client, prefix):
    event = make_event(state="live")
    viewer = socketio.test_client(scaled_app, flask_test_client=as_user("viewer"), auth={"event": event.id})
    [snap] = [m["args"][0] for m in viewer.get_received() if m["name"] == "wall_snapshot"]

    # another process holds the lease: this one only queues the change in Redis
    holder = other_process(redis_client, prefix)
    assert holder.hold_lease() == (True, True)
    point = point_of(event, BINH_THANH)
    point.checked_in_dt = utcnow()
    point.checkin_method = "qr"
    db.session.commit()
    publisher.announce(event.id, "site_checkin", point.id)
    assert deltas_of(viewer) == []
    assert holder.drain() == {event.id: {point.id}}  # what the holder would send
    holder.sent()

    # the holder shuts down cleanly: this process sends the next change itself, numbered next
    holder.release_lease()
    publisher.announce(event.id, "site_checkin", point.id)
    [delta] = deltas_of(viewer)
    assert delta["seq"] == snap["seq"] + 1
    assert [t["id"] for t in delta["tiles"]] == [point.id]
    assert delta["counters"]["checked_in"] == 1
    # it took the lease only for that flush (no sender loop here) and gave it back
    assert redis_client.get(f"{prefix}:wall:leader") is None
    viewer.disconnect()


def test_new_holder_resends_every_tile_when_the_previous_one_died_mid_send(scaled_app, as_user, redis_client, prefix):
    event = make_event(state="live")
    viewer = socketio.test_client(scaled_app, flask_test_client=as_user("viewer"), auth={"event": event.id})
    [snap] = [m["args"][0] for m in viewer.get_received() if m["name"] == "wall_snapshot"]
    points = db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id)).all()

    dead = other_process(redis_client, prefix)
    assert dead.hold_lease()[0]
    point = point_of(event, BINH_THANH)
    point.checked_in_dt = utcnow()
    db.session.commit()
    publisher.announce(event.id, "site_checkin", point.id)
    assert dead.drain() == {event.id: {point.id}}  # ... and it died before sending
    redis_client.delete(f"{prefix}:wall:leader")  # its lease ran out

    assert publisher.flush() >= 1
    deltas = deltas_of(viewer)
    whole = next(d for d in deltas if d["room"] == f"wall:{event.id}")
    assert whole["seq"] == snap["seq"] + 1
    assert {t["id"] for t in whole["tiles"]} == {p.id for p in points}  # every tile, full state
    assert next(t for t in whole["tiles"] if t["id"] == point.id)["status"] == "checked_in"
    assert not other_process(redis_client, prefix).predecessor_died_sending()
    viewer.disconnect()


def test_a_redis_outage_loses_the_wall_update_but_never_the_check_in(app, as_user):
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", WALL_COALESCE_SECONDS=0.0)  # nothing listens there
    event = make_event(state="live")
    point = point_of(event, BINH_THANH)
    point.checked_in_dt = utcnow()
    db.session.commit()
    publisher.announce(event.id, "site_checkin", point.id)  # logs, does not raise
    assert db.session.get(EventPoint, point.id).checked_in_dt is not None


def test_tick_tells_live_rooms_their_number_so_a_viewer_behind_can_tell(scaled_app, as_user, prefix):
    from launch.realtime import sequence
    from launch.services import wall

    live, later = make_event(state="live"), make_event(state="draft")
    rooms = wall.live_rooms()
    assert f"wall:{live.id}" in rooms and not any(r.startswith(f"wall:{later.id}") for r in rooms)
    assert len(rooms) == 1 + 13  # the whole wall and one per district
    viewer = socketio.test_client(scaled_app, flask_test_client=as_user("viewer"), auth={"event": live.id})
    [snap] = [m["args"][0] for m in viewer.get_received() if m["name"] == "wall_snapshot"]
    sequence.next_seq(f"wall:{live.id}")  # a delta this viewer never received

    assert publisher.tick(scaled_app) == len(rooms)
    [tick] = [m["args"][0] for m in viewer.get_received() if m["name"] == "wall_tick"]
    assert tick == {"room": f"wall:{live.id}", "seq": snap["seq"] + 1}
    viewer.disconnect()


def test_a_web_process_hands_the_lease_to_the_preferred_sender(scaled_app, redis_client, prefix, monkeypatch):
    """Scaled out the scheduler process is the preferred sender: a web process that took the lease
    (nobody held it) gives it up, between two complete sends, once the preferred one is alive."""
    web = publisher._relay(scaled_app)
    scheduler = other_process(redis_client, prefix)
    assert web.hold_lease() == (True, True)
    assert not web.preferred_elsewhere()  # no preferred sender yet: the web process keeps it
    scheduler.prefer()
    assert web.preferred_elsewhere() and not scheduler.preferred_elsewhere()

    class Stop(BaseException):
        pass

    def stop(_seconds):
        raise Stop

    monkeypatch.setattr(publisher, "_sleep", stop)  # one turn of the loop
    with pytest.raises(Stop):
        publisher._sender_loop(scaled_app, web, 0.2)
    assert redis_client.get(f"{prefix}:wall:leader") is None  # released ...
    assert scheduler.hold_lease() == (True, True)  # ... and the preferred sender takes it
    assert web.hold_lease() == (False, False)
