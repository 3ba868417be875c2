"""Events on either map: the host point names the map, "all" is the host's tree, areas are any unit
with points under it, codes are read in the host's map, and a point of another map is refused."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit
from launch.services import directory, events, wall
from launch.services.errors import ValidationFailed

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def unit(edition: str, level: str, code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.edition == edition, Unit.level == level, Unit.code == code))


def form(**over) -> dict:
    data = {"title": "Hội nghị trực tuyến", "start": "2026-03-05T08:00", "end": "2026-03-05T09:30"}
    data.update(over)
    return data


@pytest.fixture
def both_maps(directory):
    """The bundled Quảng Ngãi 2023 file and today's Quảng Ngãi (IOC + 96 communes)."""
    directory_app = directory
    from launch.services.directory import import_current_map

    import_current_map("51")
    return directory_app


def test_a_new_launch_defaults_to_todays_map_and_invites_the_province(both_maps):
    event = events.create_event(form(), now=NOW)
    assert event.host_unit == unit("2025", "province", "51") and event.edition == "2025"
    points = events.invited_points(event)
    assert len(points) == 96 and {p.unit.edition for p in points} == {"2025"}
    groups = wall.event_groups(event.id)
    assert [(g["name"], g["invited"]) for g in groups] == [("Tỉnh Quảng Ngãi", 96)]


def test_a_launch_hosted_on_the_2023_map_invites_that_map_only(both_maps):
    host = unit("2023", "province", "51")
    event = events.create_event(form(host_unit_id=host.id), now=NOW)
    assert event.edition == "2023" and len(events.invited_points(event)) == 186
    by_area = events.create_event(form(host_unit_id=host.id, invite={"mode": "select", "districts": ["524"]}),
                                  now=NOW)
    binh_son = unit("2023", "district", "524")
    assert len(events.invited_points(by_area)) == 1 + len(binh_son.children)


def test_codes_are_read_in_the_hosts_map_and_another_maps_point_is_refused(both_maps):
    # 21211 is a commune on both maps (Xã Tịnh Khê today): read in the host's map.
    today = events.create_event(form(invite={"mode": "select", "units": "21211"}), now=NOW)
    assert [p.unit.edition for p in events.invited_points(today)] == ["2025"]
    with pytest.raises(ValidationFailed) as refused:
        events.create_event(form(invite={"mode": "select", "units": "21211 2023:21046"}), now=NOW)
    assert "other_map" in [e.code for e in refused.value.errors]
    assert "2023:21046" in str(refused.value.errors[0].message)


def test_an_area_must_have_points_under_it(both_maps):
    with pytest.raises(ValidationFailed) as refused:
        events.create_event(form(invite={"mode": "select", "districts": ["21211"]}), now=NOW)
    assert "unknown_point" in [e.code for e in refused.value.errors]


def test_moving_the_host_to_another_map_asks_for_the_points_again(both_maps):
    event = events.create_event(form(), now=NOW)
    old_map_host = unit("2023", "province", "51")
    with pytest.raises(ValidationFailed) as refused:
        events.update_event(event, {"host_unit_id": old_map_host.id}, now=NOW)
    assert "other_map" in [e.code for e in refused.value.errors]
    events.update_event(event, {"host_unit_id": old_map_host.id, "invite": {"mode": "all"}}, now=NOW)
    assert event.edition == "2023" and len(events.invited_points(event)) == 186


def test_a_national_launch_by_default_and_one_province_by_area(app):
    directory.import_current_map()
    event = events.create_event(form(), now=NOW)
    assert event.host_unit.level == "country" and len(events.invited_points(event)) == 3355
    one = events.create_event(form(invite={"mode": "select", "districts": ["51"]}), now=NOW)
    assert len(events.invited_points(one)) == 97  # Quảng Ngãi's IOC and its 96 communes
    provinces = events.create_event(form(invite={"mode": "select", "levels": ["province"]}), now=NOW)
    assert len(events.invited_points(provinces)) == 34
