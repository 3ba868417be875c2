"""The wall pages: who may open which wall, what the page carries, the read model's statuses."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import PointProblem, Unit
from launch.realtime import snapshots
from launch.services import wall
from tests.support.factories import make_event, point_of

BINH_SON, BINH_THANH = "524", "21046"


@pytest.fixture
def event(users):
    return make_event()


def district_id(code=BINH_SON):
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def test_readers_open_the_whole_wall(event, as_user):
    for role in ("operator", "viewer"):
        resp = as_user(role).get(f"/wall/{event.id}")
        assert resp.status_code == 200
        html = resp.get_data(as_text=True)
        assert f'data-event="{event.id}"' in html
        assert "socket.io-client-4.8.4/socket.io.min." in html and "js/wall." in html
        labels = json.loads(re.search(r'<script type="application/json" id="wall-labels">(.*?)</script>',
                                      html, re.S).group(1))
        assert set(labels["status"]) == set(wall.STATUSES)
        assert html.count('<option value="') >= 13 + len(wall.STATUSES)


def test_district_host_is_sent_to_their_district_wall(event, as_user):
    host = as_user("district_host")
    resp = host.get(f"/wall/{event.id}")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/wall/{event.id}/district/{district_id()}")
    page = host.get(f"/wall/{event.id}/district/{district_id()}")
    assert page.status_code == 200
    assert f'data-district="{district_id()}"' in page.get_data(as_text=True)
    assert host.get(f"/wall/{event.id}/district/{district_id('522')}").status_code == 403
    assert host.get(f"/wall/{event.id}/snapshot.json?district={district_id('522')}").status_code == 403
    assert host.get(f"/wall/{event.id}/snapshot.json").status_code == 403
    snap = host.get(f"/wall/{event.id}/snapshot.json?district={district_id()}").json
    assert len(snap["tiles"]) == 23


def test_commune_host_and_anonymous_are_refused(event, as_user, client):
    assert as_user("commune_host").get(f"/wall/{event.id}").status_code == 403
    assert as_user("commune_host").get(f"/wall/{event.id}/district/{district_id()}").status_code == 403
    resp = client.get(f"/wall/{event.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get(f"/wall/{event.id}/snapshot.json").status_code in (302, 401)


def test_projector_mode(event, as_user):
    viewer = as_user("viewer")
    for url in (f"/wall/{event.id}/projector", f"/wall/{event.id}?mode=projector",
                f"/wall/{event.id}/district/{district_id()}/projector"):
        html = viewer.get(url).get_data(as_text=True)
        assert re.search(r'<body class="wallpage projector"', html), url
        assert 'id="wall-fullscreen"' in html


def test_unknown_event_or_district(event, as_user):
    viewer = as_user("viewer")
    assert viewer.get("/wall/999999").status_code == 404
    assert viewer.get(f"/wall/{event.id}/district/{district_id(BINH_THANH)}").status_code == 404


def test_tile_status_priority(app, event):
    point = point_of(event, BINH_THANH)
    now = utcnow()

    def status():
        db.session.commit()
        [t] = wall.load_tiles(event, {point.id}, now=now)
        return t

    assert status()["status"] == "invited"
    point.connection_tested_dt = now
    assert status()["status"] == "tested"
    point.absent_dt = now
    assert status()["status"] == "absent"
    point.checked_in_dt = now
    assert status()["status"] == "checked_in"
    point.last_seen_dt = now - timedelta(seconds=5)
    assert status()["status"] == "live"
    point.last_seen_dt = now - timedelta(seconds=app.config["PRESENCE_TIMEOUT_SECONDS"] + 1)
    t = status()
    assert t["status"] == "signal_lost" and t["checked_in"] and not t["page_live"]
    problem = PointProblem(event_point_id=point.id, kind="no_video", text="Màn hình đen", reported_dt=now)
    db.session.add(problem)
    t = status()
    assert t["status"] == "problem" and t["problem"]["kind"] == "no_video" and t["problem"]["text"] == "Màn hình đen"
    problem.resolved_dt = now
    assert status()["status"] == "signal_lost"


def test_needs_attention_order_and_contacts(app, event):
    unit = db.session.get(Unit, point_of(event, BINH_THANH).unit_id)
    unit.host_name, unit.host_phone = "Trần Thị B", "0912 345 678"
    for p in db.session.scalars(select(wall.EventPoint).where(wall.EventPoint.event_id == event.id)):
        p.checked_in_dt = utcnow()
    lost = point_of(event, BINH_SON)
    lost.last_seen_dt = utcnow() - timedelta(minutes=5)
    problem_point = point_of(event, BINH_THANH)
    db.session.add(PointProblem(event_point_id=problem_point.id, kind="no_audio", reported_dt=utcnow()))
    missing = point_of(event, "525")
    missing.checked_in_dt = None
    db.session.commit()
    attention = snapshots.snapshot(event.id)["attention"]
    assert [(a["id"], a["reason"]) for a in attention] == [
        (problem_point.id, "problem"), (lost.id, "signal_lost"), (missing.id, "not_checked_in")]
    assert attention[0]["host_name"] == "Trần Thị B" and attention[0]["host_phone"] == "0912 345 678"
    assert attention[1]["last_seen_at"] is not None


def test_counters_attendance(app, event):
    a = point_of(event, BINH_SON)
    a.checked_in_dt, a.headcount = utcnow(), 40
    host = db.session.scalar(select(wall.EventPoint).where(wall.EventPoint.event_id == event.id,
                                                           wall.EventPoint.is_host.is_(True)))
    host.checked_in_dt, host.headcount = utcnow(), 100
    db.session.commit()
    c = snapshots.snapshot(event.id)["counters"]
    assert c["checked_in"] == 1 and c["invited"] == 186  # the IOC is not counted among the invited
    assert c["attendees_present"] == 140
    assert c["levels"]["district"] == {"invited": 13, "checked_in": 1}


def test_tiles_carry_the_type_marker_and_the_short_name(event):
    """The projector shows "X Bình Thạnh", not "Xã Bình Th…": the marker comes from the division type."""
    tiles = {t["code"]: t for t in snapshots.snapshot(event.id)["tiles"]}
    assert (tiles[BINH_THANH]["division_mark"], tiles[BINH_THANH]["short_name"]) == ("X", "Bình Thạnh")
    assert (tiles["522"]["division_mark"], tiles["522"]["short_name"]) == ("TP", "Quảng Ngãi")
    assert (tiles[BINH_SON]["division_mark"], tiles[BINH_SON]["short_name"]) == ("H", "Bình Sơn")
    # Static facts travel in snapshots only, never in deltas.
    assert "short_name" not in wall.slim_tile(tiles[BINH_THANH])


def test_split_division_keeps_a_name_without_its_prefix_whole():
    from launch.services.text import split_division

    assert split_division("Thị trấn Chợ Chùa", "thị trấn") == ("TT", "Chợ Chùa")
    assert split_division("Phường Trương Quang Trọng", "phường") == ("P", "Trương Quang Trọng")
    assert split_division("Côn Đảo", "đặc khu") == ("ĐK", "Côn Đảo")
    assert split_division("Xã", "xã") == ("X", "Xã")
