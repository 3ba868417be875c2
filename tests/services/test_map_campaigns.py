"""Campaigns and notices on either map: reporting units on one map, areas of any level, escalation to
the nearest unit above with hosts (or the IOC's operators), exports without a district column where
the map has none."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit
from launch.services import campaigns as svc
from launch.services import directory, events, recipients
from launch.services.errors import ValidationFailed

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def unit(edition: str, level: str, code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.edition == edition, Unit.level == level, Unit.code == code))


def campaign(**over) -> dict:
    data = {"name": "7 người dân trong 7 ngày", "date_mode": "dates", "start": "2026-03-05T00:00",
            "end": "2026-03-12T00:00", "rhythm": "daily", "cutoff": "17:00", "escalation_minutes": "120",
            "reporting_level": "commune", "district_ids": [],
            "metrics": [{"label": "Người dân được hướng dẫn", "target_rule": "fixed", "target_value": "7"}]}
    data.update(over)
    return data


@pytest.fixture
def both_maps(directory):
    """The bundled Quảng Ngãi 2023 file and today's Quảng Ngãi (the `directory` fixture is the app)."""
    from launch.services.directory import import_current_map

    import_current_map("51")
    return directory


def test_a_campaign_after_a_launch_on_todays_map_has_its_communes(both_maps):
    launch = events.create_event({"title": "Hội nghị", "start": "2026-03-04T08:00", "end": "2026-03-04T09:30"},
                                 now=NOW)
    c = svc.save_campaign(campaign(date_mode="anchor", anchor_event_id=launch.id, anchor_days="7"), now=NOW)
    assert len(c.units) == 96 and {cu.unit.edition for cu in c.units} == {"2025"}
    assert svc.reporting_districts(c) == set()  # the whole map: nothing ticked when edited
    data = svc.progress(c, now=NOW)
    assert data["group_level"] == "province" and str(data["group_words"]["per"]) == "Tiến độ theo tỉnh"
    headings, rows = svc.export_rows(c, "results", now=NOW)
    assert headings[0] == "Mã đơn vị" and "Huyện" not in headings  # no district column on a two-level map
    # The 2023 file's districts still make a campaign of that map; areas of two maps do not.
    old = svc.save_campaign(campaign(district_ids=[unit("2023", "district", "524").id]), now=NOW)
    assert len(old.units) == 22 and svc.export_rows(old, "results", now=NOW)[0][0] == "Huyện"
    with pytest.raises(ValidationFailed) as refused:
        svc.save_campaign(campaign(district_ids=[unit("2023", "district", "524").id,
                                                 unit("2025", "province", "51").id]), now=NOW)
    assert [e.code for e in refused.value.errors] == ["other_map"]


def test_a_national_campaign_by_province(app):
    directory.import_current_map()
    quang_ngai, ha_noi = unit("2025", "province", "51"), unit("2025", "province", "01")
    c = svc.save_campaign(campaign(district_ids=[quang_ngai.id, ha_noi.id]), now=NOW)
    assert len(c.units) == 96 + len(ha_noi.children)
    assert svc.reporting_districts(c) == {quang_ngai.id, ha_noi.id}
    data = svc.progress(c, now=NOW)
    assert [g.unit.code for g in data["groups"]] == ["01", "51"] and data["group_level"] == "province"
    assert svc.export_rows(c, "results", now=NOW)[0][0] == "Tỉnh"


def test_escalation_goes_to_the_nearest_unit_above_with_hosts_or_the_ioc(app, make_user):
    directory.import_current_map()
    commune, province = unit("2025", "commune", "21211"), unit("2025", "province", "51")
    operator = make_user("operator")
    assert recipients.area_hosts(commune) == [operator]  # nobody above: the IOC's operators
    national = make_user("host", units=["2025:VN"])
    assert recipients.area_hosts(commune) == [national]
    provincial = make_user("host", units=["2025:51"])
    assert recipients.area_hosts(commune) == [provincial]  # the nearest first
    assert recipients.unit_hosts(commune) == [provincial]
    own = make_user("host", units=["2025:21211"])
    assert recipients.unit_hosts(commune) == [own] and recipients.area_hosts(province) == [national]
    # An event's notices reach the hosts of every unit above a point.
    launch = events.create_event({"title": "Toàn quốc", "start": "2026-03-04T08:00", "end": "2026-03-04T09:30",
                                  "invite": {"mode": "select", "districts": ["51"]}}, now=NOW)
    told = recipients.point_hosts(events.invited_points(launch))
    assert len(told[provincial]) == 97 and len(told[national]) == 97 and len(told[own]) == 1
