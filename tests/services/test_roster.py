"""The roster: CSV import all or nothing with line-numbered errors, re-import, search, demo seed."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from launch.demo import roster as demo_roster
from launch.extensions import db
from launch.models import Attendee, AuditEntry
from launch.services import roster
from launch.services.errors import ValidationFailed
from tests.conftest import login
from tests.support.checkin import CODES, START
from tests.support.factories import make_event, point_of

GOOD = ("name,unit,position,phone\n"
        "Nguyễn Văn An,21046,Chủ tịch UBND xã,0905000001\n"
        "Trần Thị Bình,21046,Công chức VH-XH,\n"
        "Lê Minh Châu,524,Phó Chủ tịch UBND huyện,0905000003\n")


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def people() -> int:
    return db.session.scalar(select(func.count()).select_from(Attendee))


def test_import_then_reimport_changes_nothing(event, users):
    result = roster.import_roster(event, GOOD.encode("utf-8-sig"), actor=users["operator"])
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    codes = set(db.session.scalars(select(Attendee.badge_code)))
    assert len(codes) == 3 and all(len(c) >= 16 for c in codes)
    again = roster.import_roster(event, GOOD, actor=users["operator"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = roster.import_roster(event, GOOD.replace("Công chức VH-XH", "Phó Chủ tịch"), actor=users["operator"])
    assert (changed.created, changed.updated) == (0, 1)
    assert people() == 3
    assert set(db.session.scalars(select(Attendee.badge_code))) == codes  # badges stay valid
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "roster.imported")) == 2


def test_bad_file_is_refused_whole_with_every_line(event, users):
    bad = ("name,unit,position\n"
           "Nguyễn Văn An,21046,Chủ tịch\n"
           ",21046,\n"
           "Trần Thị Bình,99999,\n"
           "Lê Văn Cường,21040,\n"
           "nguyen van an,21046,\n"
           "Hồ Thị Lan,,\n")
    with pytest.raises(ValidationFailed) as info:
        roster.import_roster(event, bad)
    errors = info.value.errors
    assert [(e.line, e.code) for e in errors] == [(3, "empty_name"), (4, "unknown_unit"), (5, "not_invited"),
                                                 (6, "duplicate"), (7, "empty_code")]
    assert people() == 0
    with pytest.raises(ValidationFailed) as info:
        roster.import_roster(event, "fullname,unit\nA,21046\n")
    assert info.value.code == "missing_column"
    with pytest.raises(ValidationFailed) as info:
        roster.import_roster(event, "name,unit\nA,21046\n".encode("utf-16"))
    assert info.value.code == "bad_encoding"


def test_search_ignores_diacritics_and_point_roster_covers_units_below(event, users):
    roster.import_roster(event, GOOD)
    assert [a.full_name for a in roster.search_attendees(event, "tran thi binh")] == ["Trần Thị Bình"]
    assert [a.full_name for a in roster.search_attendees(event, "NGUYỄN an")] == ["Nguyễn Văn An"]
    assert roster.search_attendees(event, "") == []
    district = {a.full_name for a in roster.roster_for_point(point_of(event, "524"))}
    commune = {a.full_name for a in roster.roster_for_point(point_of(event, "21046"))}
    assert district == {"Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu"}
    assert commune == {"Nguyễn Văn An", "Trần Thị Bình"}


def test_seed_demo_checkins_is_idempotent(event, users):
    assert demo_roster.seed_demo_checkins(event) == 40
    assert demo_roster.seed_demo_checkins(event) == 0
    units = dict(db.session.execute(select(Attendee.unit_id, func.count()).group_by(Attendee.unit_id)).all())
    assert sorted(units.values()) == [20, 20]
    only_district = make_event(start_dt=START, unit_codes=["524"], title="Other")
    assert demo_roster.seed_demo_checkins(only_district) == 20


def test_import_page(app, event, users):
    c = app.test_client()
    login(c, "op")
    resp = c.post(f"/c/events/{event.id}/roster", data={"file": (io.BytesIO(GOOD.encode()), "roster.csv")},
                  content_type="multipart/form-data")
    assert resp.status_code == 200 and people() == 3
    resp = c.post(f"/c/events/{event.id}/roster", data={"file": (io.BytesIO(b"name,unit\nX,1\n"), "r.csv")},
                  content_type="multipart/form-data")
    assert resp.status_code == 400 and people() == 3
    host = app.test_client()
    login(host, "chost")
    assert host.get(f"/c/events/{event.id}/roster").status_code == 403


@pytest.mark.parametrize("app_overrides", [{"ITEMS_PER_PAGE": 2}])
def test_roster_page_is_paged_and_searchable_without_diacritics(app, event, users):
    roster.import_roster(event, GOOD)
    c = app.test_client()
    login(c, "op")
    url = f"/c/events/{event.id}/roster"
    first = c.get(url).get_data(as_text=True)
    assert first.count("reissue-badge") == 2 and "3 " in first and 'rel="next"' in first
    second = c.get(url + "?page=2").get_data(as_text=True)
    assert second.count("reissue-badge") == 1 and 'rel="prev"' in second
    found = c.get(url + "?q=tran+thi").get_data(as_text=True)
    assert found.count("reissue-badge") == 1 and "Trần Thị Bình" in found and "Nguyễn Văn An" not in found
    none = c.get(url + "?q=zzz").get_data(as_text=True)
    assert "reissue-badge" not in none and "zzz" in none
    assert c.get(url + "?page=99").status_code == 200  # past the end: an empty page, not an error
