"""A national launch's wall: the whole wall is a group view (the national IOC and a tile per
province, national counters and attention), a province's wall is its points, and a check-in sends
the national viewers one group tile, never the points."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import EventPoint, PointProblem, Unit
from launch.realtime import deltas as wall_deltas
from launch.services import directory, events, wall

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def national(app):
    """Today's whole map and a launch of all 3,356 points (hosted by the national IOC)."""
    directory.import_current_map()
    event = events.create_event({"title": "Lễ phát động toàn quốc", "start": "2026-03-04T08:00",
                                 "end": "2026-03-04T09:30"}, now=NOW)
    qn = db.session.scalar(select(Unit).where(Unit.edition == "2025", Unit.level == "province", Unit.code == "51"))
    return event, qn


def point(event, code: str) -> EventPoint:
    return db.session.scalar(select(EventPoint).where(EventPoint.event_id == event.id, EventPoint.unit_code == code))


def test_the_national_snapshot_is_35_tiles_and_small(national):
    event, qn = national
    view = wall.full_view(event.id)
    assert view["view"] == "groups" and view["type"] == "snapshot"
    assert len(view["groups"]) == 34 and [t["level"] for t in view["tiles"]] == ["country"]
    quang_ngai = next(g for g in view["groups"] if g["id"] == qn.id)
    assert (quang_ngai["name"], quang_ngai["invited"], quang_ngai["checked_in"]) == ("Tỉnh Quảng Ngãi", 97, 0)
    assert view["counters"]["invited"] == 3355 and len(view["counters"]["districts"]) == 34
    assert view["attention_total"] == 3355 and len(view["attention"]) == 30
    assert len(json.dumps(view).encode()) < 30_000
    province = wall.full_view(event.id, qn.id)
    assert "view" not in province and len(province["tiles"]) == 97


def test_a_check_in_sends_one_group_tile_nationally_and_the_point_to_its_province(app, national):
    event, qn = national
    commune = point(event, "21211")  # Xã Tịnh Khê
    commune.checked_in_dt, commune.checkin_method = utcnow(), "qr"
    db.session.add(PointProblem(event_point_id=point(event, "23293").id, kind="no_audio", reported_dt=utcnow()))
    db.session.commit()
    root, province = wall_deltas.build(app, event.id, {commune.id})
    assert root["room"] == wall.wall_room(event.id) and root["view"] == "groups" and root["tiles"] == []
    changed = [(g["id"], g["checked_in"], g["problems"], g["status"]) for g in root["groups"]]
    assert changed == [(qn.id, 1, 1, "problem")]
    assert root["counters"]["checked_in"] == 1 and root["attention"][0]["reason"] == "problem"
    first = root["attention"][0]
    assert (first["name"], first["district_name"]) == ("Phường Kon Tum", "Tỉnh Quảng Ngãi")
    assert province["room"] == wall.wall_room(event.id, qn.id) and [t["id"] for t in province["tiles"]] == [commune.id]
    assert province["counters"]["checked_in"] == 1 and province["counters"]["invited"] == 97
    # A change of the event itself refreshes every province tile, and no point reaches the national room.
    deltas = wall_deltas.build(app, event.id, {None})
    assert len(deltas) == 35 and len(deltas[0]["groups"]) == 34 and len(deltas[0]["tiles"]) == 1
    assert len(json.dumps(deltas[0]).encode()) < 30_000
    # The province's viewers get perf's compact deltas: the changed fields and counters only.
    commune.headcount = 40
    db.session.commit()
    root, province = wall_deltas.build(app, event.id, {commune.id})
    assert province["tiles"] == [{"id": commune.id, "headcount": 40}] and "full" not in province
    assert province["counters"] == {"attendees_present": 40}
    assert root["view"] == "groups" and [(g["id"], g["present"]) for g in root["groups"]] == [(qn.id, 40)]


def test_the_point_map_kept_for_incremental_reads_follows_points_added_and_removed(national):
    """wall.point_units is kept while the event's points stand; adding or removing one is seen at once."""
    event, _qn = national
    units = wall.point_units(event.id)
    assert len(units) == 3356 and wall.point_units(event.id) is units  # kept: not read again
    gone = point(event, "51")  # a province's own point
    db.session.delete(gone)
    db.session.commit()
    assert gone.unit_id not in wall.point_units(event.id) and len(wall.point_units(event.id)) == 3355
    again = EventPoint(event_id=event.id, unit_id=gone.unit_id, is_host=False)
    db.session.add(again)
    db.session.commit()
    assert wall.point_units(event.id)[gone.unit_id] == again.id


def test_a_provinces_own_launch_on_todays_map_is_a_wall_of_points_not_one_province_tile(app):
    """Today's map of one province: its communes sit directly under the host, grouped under the
    host itself; the wall shows the points (as the README says), not a national group view."""
    directory.import_current_map("51")
    qn = db.session.scalar(select(Unit).where(Unit.edition == "2025", Unit.level == "province", Unit.code == "51"))
    event = events.create_event({"title": "Hội nghị triển khai", "start": "2026-03-04T08:00",
                                 "end": "2026-03-04T09:30", "host_unit_id": qn.id}, now=NOW)
    assert not wall.is_national(event.id)
    snap = wall.full_view(event.id)
    assert snap.get("view") != "groups" and len(snap["tiles"]) == 97  # the IOC + 96 communes and wards
