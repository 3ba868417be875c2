"""Community digital-technology teams: CSV import (line-numbered, all or nothing, idempotent), edits, pages."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from launch.demo.campaigns import demo_teams_csv
from launch.extensions import db
from launch.models import AuditEntry, Team, Unit
from launch.services import teams as svc
from launch.services.errors import ValidationFailed

HEADER = "unit_code,level,name,members\n"
GOOD = HEADER + (
    "524,district,Tổ CNSCĐ Huyện Bình Sơn,10\n"
    "21046,commune,Tổ CNSCĐ Xã Bình Thạnh,6\n"
    "21046,village,Tổ CNSCĐ thôn Phước Thiện,5\n"
    "21046,village,Tổ CNSCĐ thôn An Lộc,4\n"
)


def snapshot():
    teams = db.session.execute(select(Team.unit_id, Team.level, Team.name, Team.members)).all()
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return sorted(teams), audits


def unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def test_import_creates_teams_and_reimport_changes_nothing(directory):
    result = svc.import_teams(GOOD.encode())
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    before = snapshot()
    again = svc.import_teams(GOOD.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert snapshot() == before
    rolled = svc.members_rolled_up()
    assert rolled[unit_id("21046")] == 15
    assert rolled[unit_id("524")] == 25  # the district counts its own team and its communes' teams


def test_import_updates_member_counts_in_place(directory):
    svc.import_teams(GOOD.encode())
    result = svc.import_teams((HEADER + "21046,village,Tổ CNSCĐ thôn An Lộc,9\n").encode())
    assert (result.created, result.updated) == (0, 1)
    team = db.session.scalar(select(Team).where(Team.name == "Tổ CNSCĐ thôn An Lộc"))
    assert team.members == 9
    assert db.session.scalar(select(func.count()).select_from(Team)) == 4
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "teams.imported").order_by(
        AuditEntry.id.desc()).limit(1)).details == {"created": 0, "updated": 1}


@pytest.mark.parametrize(
    ("content", "line", "code"),
    [
        (HEADER + "524,district,Tổ A,10\n99999,commune,Tổ B,5\n", 3, "unknown_unit"),
        (HEADER + "21046,hamlet,Tổ A,5\n", 2, "wrong_level"),
        (HEADER + "524,village,Tổ thôn 1,5\n", 2, "wrong_unit_level"),
        (HEADER + "21046,district,Tổ A,5\n", 2, "wrong_unit_level"),
        (HEADER + "21046,village,Tổ A,-3\n", 2, "bad_number"),
        (HEADER + "21046,village,Tổ A,nhiều\n", 2, "bad_number"),
        (HEADER + "21046,village,,4\n", 2, "empty_name"),
        (HEADER + "21046,village,Tổ A,4\n21046,village,tổ a,5\n", 3, "duplicate_team"),
        (HEADER + "21046,village,Tổ A,4,extra\n", 2, "too_many_fields"),
    ],
    ids=["unknown-unit", "wrong-level", "village-on-district", "district-on-commune", "negative", "not-a-number",
         "empty-name", "duplicate", "too-many-fields"],
)
def test_bad_file_is_refused_whole_with_line_numbers(directory, content, line, code):
    svc.import_teams(GOOD.encode())
    before = snapshot()
    with pytest.raises(ValidationFailed) as info:
        svc.import_teams(content.encode())
    assert (line, code) in [(e.line, e.code) for e in info.value.errors]
    assert snapshot() == before


def test_every_problem_is_listed_and_nothing_half_imported(directory):
    content = HEADER + "524,district,Tổ ok,10\n1,village,Tổ X,5\n21046,village,,-1\n"
    with pytest.raises(ValidationFailed) as info:
        svc.import_teams(content.encode())
    problems = [(e.line, e.code) for e in info.value.errors]
    assert problems == [(3, "unknown_unit"), (4, "empty_name"), (4, "bad_number")]
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0  # the good line 2 was not written


def test_missing_column_and_bad_encoding(directory):
    with pytest.raises(ValidationFailed) as info:
        svc.import_teams(b"unit_code,level,name\n524,district,A\n")
    assert info.value.code == "missing_column" and [e.line for e in info.value.errors] == [1]
    with pytest.raises(ValidationFailed) as info:
        svc.import_teams(HEADER.encode() + b"21046,village,T\xf4 th\xf4n,4\n")  # Latin-1, not UTF-8
    assert info.value.code == "bad_encoding"


def test_hand_edits_are_checked_and_audited(directory, users):
    team = svc.save_team({"unit_id": unit_id("21046"), "level": "village", "name": "Tổ thôn 1", "members": "7"},
                         actor=users["operator"])
    assert team.members == 7
    with pytest.raises(ValidationFailed) as info:
        svc.save_team({"unit_id": unit_id("21046"), "level": "village", "name": "tổ thôn 1", "members": "3"})
    assert "duplicate_team" in info.value.details["codes"]
    with pytest.raises(ValidationFailed) as info:
        svc.save_team({"unit_id": unit_id("524"), "level": "village", "name": "X", "members": "-1"}, team=team)
    assert set(info.value.details["codes"]) == {"wrong_unit_level", "bad_number"}
    db.session.expire_all()
    assert db.session.get(Team, team.id).members == 7
    svc.save_team({"unit_id": unit_id("21046"), "level": "village", "name": "Tổ thôn 1", "members": 9}, team=team,
                  actor=users["operator"])
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "team.updated"))
    assert entry.details["changes"]["members"] == [7, 9] and entry.actor == "op"
    svc.delete_team(team, actor=users["operator"])
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0


def test_demo_teams_use_the_article_figures(directory):
    svc.import_teams(demo_teams_csv())
    rows = {r["unit"].code: r for r in svc.district_summary()}
    binh_son = rows["524"]
    assert (binh_son["district"], binh_son["commune"], binh_son["village"]) == (1, 22, 120)
    assert binh_son["members"] == 650
    mo_duc = rows["533"]
    assert (mo_duc["commune"], mo_duc["village"], mo_duc["members"]) == (13, 68, 498)
    assert (rows["534"]["teams"], rows["534"]["members"]) == (99, 615)
    assert rows["525"]["teams"] == 96
    assert all(r["teams"] > 0 and r["members"] > 0 for r in rows.values())
    again = svc.import_teams(demo_teams_csv())
    assert again.created == again.updated == 0


def test_import_page_lists_bad_lines_and_saves_nothing(as_user):
    client = as_user("operator")
    client.get("/lang/en")
    bad = HEADER + "524,district,Tổ A,10\n524,village,Tổ B,5\n"
    resp = client.post("/campaigns/teams/import", data={"file": (io.BytesIO(bad.encode()), "teams.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 400
    assert b'data-line="3" data-code="wrong_unit_level"' in resp.data
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0
    resp = client.post("/campaigns/teams/import", data={"file": (io.BytesIO(GOOD.encode()), "teams.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and b"4 created" in resp.data


def test_team_pages_by_role(app, as_user, client):
    svc.import_teams(GOOD.encode())
    assert client.get("/campaigns/teams").status_code == 302  # anonymous -> sign in
    viewer = as_user("viewer")
    assert viewer.get("/campaigns/teams").status_code == 200
    resp = viewer.get(f"/campaigns/teams?district={unit_id('524')}")
    assert resp.status_code == 200 and "Tổ CNSCĐ thôn An Lộc".encode() in resp.data
    assert viewer.get("/campaigns/teams/import").status_code == 403
    assert viewer.post("/campaigns/teams/new", data={}).status_code == 403
    host = as_user("commune_host")
    assert host.get("/campaigns/teams/new").status_code == 403
    operator = as_user("operator")
    resp = operator.post("/campaigns/teams/new", data={"unit_id": unit_id("21046"), "level": "village",
                                                       "name": "Tổ thôn mới", "members": "8"})
    assert resp.status_code == 302
    assert db.session.scalar(select(Team.members).where(Team.name == "Tổ thôn mới")) == 8
    resp = operator.post("/campaigns/teams/new", data={"unit_id": unit_id("21046"), "level": "village",
                                                       "name": "Tổ thôn mới 2", "members": "-2"})
    assert resp.status_code == 400
    exported = operator.get("/campaigns/teams/export.csv").data.decode("utf-8-sig")
    assert exported.splitlines()[0] == "unit_code,level,name,members" and "Tổ thôn mới" in exported
