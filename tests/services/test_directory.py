"""The directory import (bundled file, bad files, re-import, update) and the search."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import AuditEntry, Unit
from launch.services import directory as svc
from launch.services.errors import ValidationFailed

HEADER = "code,name,level,division_type,parent_code\n"


def snapshot():
    """Everything the import may touch, to prove a refused file changed nothing."""
    units = db.session.execute(select(Unit.code, Unit.name, Unit.level, Unit.parent_id, Unit.host_name)).all()
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return sorted(units), audits


def test_bundled_file_gives_the_186_points(directory):
    by_level = dict(db.session.execute(select(Unit.level, func.count()).group_by(Unit.level)).all())
    assert by_level == {"province": 1, "district": 13, "commune": 173}
    province = db.session.scalar(select(Unit).where(Unit.level == "province"))
    assert province.code == "51" and province.parent is None
    districts = db.session.scalars(select(Unit).where(Unit.level == "district")).all()
    assert all(d.parent_id == province.id for d in districts)
    communes = db.session.scalars(select(Unit).where(Unit.level == "commune")).all()
    assert all(c.parent.level == "district" for c in communes)
    binh_son = db.session.scalar(select(Unit).where(Unit.code == "524"))
    assert len(binh_son.children) == 22  # the article: 22 commune points
    mo_duc = db.session.scalar(select(Unit).where(Unit.code == "533"))
    assert len(mo_duc.children) == 13
    ly_son = db.session.scalar(select(Unit).where(Unit.code == "536"))
    assert ly_son.children == []


def test_reimport_changes_nothing(directory):
    before = snapshot()
    result = directory_module_reimport()
    assert (result.created, result.updated, result.unchanged) == (0, 0, 187)
    assert snapshot() == before


def directory_module_reimport():
    return svc.import_bundled_directory()


def test_updated_file_updates_in_place_and_keeps_operator_details(directory):
    unit = db.session.scalar(select(Unit).where(Unit.code == "21046"))
    unit.host_name = "Nguyễn Văn A"
    db.session.commit()
    unit_id = unit.id
    text = svc.BUNDLED_CSV.read_text(encoding="utf-8").replace("Xã Bình Thạnh", "Xã Bình Thạnh Mới")
    result = svc.import_directory(text.encode())
    assert (result.created, result.updated) == (0, 1)
    unit = db.session.get(Unit, unit_id)
    assert unit.name == "Xã Bình Thạnh Mới"
    assert unit.host_name == "Nguyễn Văn A"  # a file without host columns keeps what operators set
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 187


def test_optional_host_columns_are_imported(app):
    data = (
        "code,name,level,division_type,parent_code,host_name,host_phone,expected_attendance\n"
        "51,Tỉnh Quảng Ngãi,province,tỉnh,,Trần B,0255 3822 111,120\n"
        "524,Huyện Bình Sơn,district,huyện,51,Lê C,0909 000 111,250\n"
    )
    result = svc.import_directory(data.encode())
    assert result.created == 2
    binh_son = db.session.scalar(select(Unit).where(Unit.code == "524"))
    assert (binh_son.host_name, binh_son.host_phone, binh_son.expected_attendance) == ("Lê C", "0909 000 111", 250)


@pytest.mark.parametrize(
    ("content", "line", "code"),
    [
        (HEADER + "51,Tỉnh Quảng Ngãi,province,tỉnh,\n999,Huyện X,district,huyện,77\n", 3, "unknown_parent"),
        (HEADER + "51,Tỉnh,province,tỉnh,\n524,Huyện A,district,huyện,51\n524,Huyện B,district,huyện,51\n", 4,
         "duplicate_code"),
        (HEADER + "51,Tỉnh,province,tỉnh,\n524,Huyện A,county,huyện,51\n", 3, "wrong_level"),
        (HEADER + "51,Tỉnh,province,tỉnh,\n21010,Xã A,commune,xã,51\n21013,Xã B,commune,xã,21010\n", 4,
         "wrong_level"),
        (HEADER + "51,Tỉnh,province,tỉnh,\n524,,district,huyện,51\n", 3, "empty_name"),
    ],
    ids=["unknown-parent", "duplicate-code", "wrong-level", "wrong-parent-level", "empty-name"],
)
def test_bad_file_is_refused_whole_with_line_numbers(directory, content, line, code):
    before = snapshot()
    with pytest.raises(ValidationFailed) as info:
        svc.import_directory(content.encode())
    problems = [(e.line, e.code) for e in info.value.errors]
    assert (line, code) in problems, problems
    assert all(str(e).startswith(f"Dòng {e.line}:") for e in info.value.errors)
    assert snapshot() == before


def test_missing_column_is_refused(directory):
    before = snapshot()
    with pytest.raises(ValidationFailed) as info:
        svc.import_directory(b"code,name,level,parent_code\n51,T,province,\n")
    assert info.value.code == "missing_column"
    assert [e.line for e in info.value.errors] == [1]
    assert info.value.errors[0].code == "missing_column" and "division_type" in str(info.value.errors[0])
    assert snapshot() == before


def test_bad_encoding_is_refused_with_its_line(directory):
    before = snapshot()
    # A file saved in a legacy 8-bit code page: line 3 holds a byte that is not UTF-8.
    content = (HEADER + "51,Tinh Quang Ngai,province,tỉnh,\n").encode() + "522,Thành phố,district,huyện,51\n".encode(
        "latin-1", errors="replace")
    with pytest.raises(ValidationFailed) as info:
        svc.import_directory(content)
    assert info.value.code == "bad_encoding"
    assert info.value.errors[0].line == 3
    assert snapshot() == before


def test_all_problems_are_listed_not_just_the_first(app):
    content = HEADER + "51,Tỉnh,province,tỉnh,\n1,,district,huyện,51\n2,B,district,xyz,99\n"
    with pytest.raises(ValidationFailed) as info:
        svc.import_directory(content.encode())
    lines = [e.line for e in info.value.errors]
    assert lines == sorted(lines)
    assert lines.count(3) == 1 and lines.count(4) == 2
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_import_is_audited(app):
    svc.import_bundled_directory()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "directory.imported"))
    assert entry.details["created"] == 187


@pytest.mark.parametrize(
    ("query", "expected"),
    [("tu nghia", "Huyện Tư Nghĩa"), ("TƯ NGHĨA", "Huyện Tư Nghĩa"), ("binh son", "Huyện Bình Sơn"),
     ("duc pho", "Thị xã Đức Phổ"), ("ly son", "Huyện Lý Sơn")],
)
def test_search_ignores_diacritics_and_case(directory, query, expected):
    names = [u.name for u in directory_search(query)]
    assert expected in names


def directory_search(query):
    return svc.search_units(query)


def test_search_every_word_must_match(directory):
    names = [u.name for u in svc.search_units("xa binh thanh")]
    assert "Xã Bình Thạnh" in names
    assert all("binh" in u.search_name and "thanh" in u.search_name for u in svc.search_units("binh thanh"))


def test_search_by_code(directory):
    assert [u.name for u in svc.search_units("21046")] == ["Xã Bình Thạnh"]


def test_unit_update_is_audited_with_before_and_after(directory, make_user):
    op = make_user("operator")
    unit = db.session.scalar(select(Unit).where(Unit.code == "524"))
    changed = svc.update_unit(unit, {"host_name": "Phạm D", "expected_attendance": "250"}, actor=op)
    assert set(changed) == {"host_name", "expected_attendance"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "unit.updated"))
    assert entry.actor == op.username
    assert entry.details["changes"]["host_name"] == [None, "Phạm D"]


def test_unit_update_refuses_bad_numbers_and_saves_nothing(directory):
    unit = db.session.scalar(select(Unit).where(Unit.code == "524"))
    with pytest.raises(ValidationFailed):
        svc.update_unit(unit, {"host_name": "X", "expected_attendance": "-3"})
    db.session.expire_all()
    assert db.session.scalar(select(Unit).where(Unit.code == "524")).host_name is None


@pytest.mark.parametrize(("text", "expected"), [("42", 42), (" -7 ", -7), ("²", None), ("9" * 19, None),
                                                  ("9" * 5000, None), ("", None), (None, None), ("1e3", None)])
def test_small_int_refuses_what_int_would_crash_on(text, expected):
    from launch.services.text import small_int

    assert small_int(text) == expected


def test_directory_edits_reach_events_not_yet_over_and_their_open_walls(users, monkeypatch):
    """A host's new phone during the event shows on the open walls; a new expected attendance reaches
    the events not yet over, unless the event set its own number for that point."""
    from flask import current_app

    from launch.realtime import deltas as wall_deltas
    from launch.realtime import snapshots
    from launch.services import wall
    from tests.support.checkin import capture_announcements
    from tests.support.factories import make_event, point_of

    live = make_event(state="live", unit_codes=["21046", "21043"])
    adjusted = make_event(title="Hội nghị", unit_codes=["21046"])
    over = make_event(state="ended", title="Đã xong", unit_codes=["21046"])
    point_of(adjusted, "21046").expected_attendance = 75  # the event's own number
    db.session.commit()
    before = {t["code"]: t for t in snapshots.snapshot(live.id)["tiles"]}["21046"]
    wall_deltas.build(current_app._get_current_object(), live.id, {None})  # the sender's model, as the wall has it
    calls = capture_announcements(monkeypatch)
    unit = db.session.scalar(select(Unit).where(Unit.code == "21046"))
    unit.expected_attendance = 40
    point_of(live, "21046").expected_attendance = point_of(over, "21046").expected_attendance = 40  # as invited
    db.session.commit()

    svc.update_unit(unit, {"host_phone": "0905 777 888", "expected_attendance": "250"}, actor=users["operator"])

    told = {(event_id, point_id) for event_id, kind, point_id, _data in calls if kind == "directory"}
    assert told == {(live.id, point_of(live, "21046").id), (adjusted.id, point_of(adjusted, "21046").id)}
    assert point_of(live, "21046").expected_attendance == 250
    assert point_of(adjusted, "21046").expected_attendance == 75  # kept: set for this event
    assert point_of(over, "21046").expected_attendance == 40  # an ended event keeps what it had
    # The delta the open wall gets carries the tile's new fingerprint: wall.js takes a snapshot.
    built = wall_deltas.build(current_app._get_current_object(), live.id, {point_of(live, "21046").id})
    [delta] = [d for d in built if d["room"] == wall.wall_room(live.id)]
    [tile] = delta["tiles"]
    assert tile["facts"] != before["facts"] and tile["host_phone"] == "0905 777 888"
    after = {t["code"]: t for t in snapshots.snapshot(live.id)["tiles"]}["21046"]
    assert after["host_phone"] == "0905 777 888" and after["facts"] == tile["facts"]


def test_a_directory_import_tells_the_open_walls_of_the_units_it_changed(users, monkeypatch):
    from tests.support.checkin import capture_announcements
    from tests.support.factories import make_event, point_of

    live = make_event(state="live", unit_codes=["21046", "21043"])
    calls = capture_announcements(monkeypatch)
    unit = db.session.scalar(select(Unit).where(Unit.code == "21046"))
    parent = unit.parent.code
    svc.import_directory(HEADER.rstrip("\n") + ",host_phone\n"
                         f"21046,{unit.name},commune,{unit.division_type},{parent},0912 345 678\n")
    assert [(e, p) for e, kind, p, _d in calls if kind == "directory"] == [(live.id, point_of(live, "21046").id)]
