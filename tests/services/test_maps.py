"""Two maps in one database: the 2023 three-level map and today's two-level map (since 1 July 2025).

Hà Nội's and Kon Tum's 2023 directories (built from the GSO list of 2023-05-07 as the
`vietnam-provinces` 0.5.0 package ships it; Hà Nội's saved by a spreadsheet that dropped the
leading zeros), today's map from the pinned `vietnam-provinces` package, one province or the whole
country, and what events, walls, reports and access make of either map.
"""
from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Edition, Event, EventPoint, Unit
from launch.services import access, hierarchy, reports, wall
from launch.services import directory as svc
from launch.services.errors import DomainError, NotFound, ValidationFailed
from launch.services.hierarchy import Node, group_of
from launch.services.users import create_user
from tests.conftest import login
from tests.support.services import pg_database

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "code,name,level,division_type,parent_code\n"


def count(edition: str) -> Counter:
    return Counter(dict(db.session.execute(
        select(Unit.level, func.count()).where(Unit.edition == edition).group_by(Unit.level)).all()))


def unit(edition: str, level: str, code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.edition == edition, Unit.level == level, Unit.code == code))


def make_event(host: Unit, units: list[Unit], *, state: str = "scheduled", title: str = "Lễ phát động") -> Event:
    """An event on `host`'s map inviting `units` (written straight to the models: the points are frozen
    by the flush hook, whoever writes them)."""
    start = utcnow() + timedelta(hours=2)
    event = Event(title=title, start_dt=start, end_dt=start + timedelta(hours=2), state=state, host_unit=host,
                  edition=host.edition)
    db.session.add(event)
    db.session.add(EventPoint(event=event, unit=host, is_host=True))
    for u in units:
        db.session.add(EventPoint(event=event, unit=u))
    db.session.commit()
    return event


# --- the 2023 map: any province's file ------------------------------------------------------------


def test_ha_noi_2023_imports_with_its_division_types_and_codes_that_lost_their_zeros(app):
    result = svc.import_directory((DATA / "ha-noi-units-2023.csv").read_bytes())
    assert (result.created, result.updated) == (610, 0)
    assert count("2023") == {"province": 1, "district": 30, "commune": 579}
    # `1` was the province, Quận Ba Đình and Phường Phúc Xá: three units, each at its level's width.
    ha_noi, ba_dinh, phuc_xa = unit("2023", "province", "01"), unit("2023", "district", "001"), \
        unit("2023", "commune", "00001")
    assert (ha_noi.name, ha_noi.division_type) == ("Thành phố Hà Nội", "thành phố trung ương")
    assert (ba_dinh.name, ba_dinh.division_type, ba_dinh.parent_id) == ("Quận Ba Đình", "quận", ha_noi.id)
    assert (phuc_xa.name, phuc_xa.parent_id) == ("Phường Phúc Xá", ba_dinh.id)
    kinds = Counter(db.session.scalars(select(Unit.division_type).where(Unit.level == "district")))
    assert kinds == {"huyện": 17, "quận": 12, "thị xã": 1}
    # Every commune sits under a district of Hà Nội.
    districts = set(db.session.scalars(select(Unit.id).where(Unit.level == "district")))
    assert set(db.session.scalars(select(Unit.parent_id).where(Unit.level == "commune"))) <= districts
    again = svc.import_directory((DATA / "ha-noi-units-2023.csv").read_bytes())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 610)


def test_kon_tum_2023_imports_beside_quang_ngai(directory):
    result = svc.import_directory((DATA / "kon-tum-units-2023.csv").read_bytes(), source="kon-tum.csv")
    assert result.created == 1 + 10 + 102
    assert count("2023") == {"province": 2, "district": 23, "commune": 275}
    kon_tum = unit("2023", "province", "62")
    assert kon_tum.name == "Tỉnh Kon Tum" and len(kon_tum.children) == 10
    assert unit("2023", "district", "608").name == "Thành phố Kon Tum"


def test_a_wrong_division_type_for_its_level_and_a_code_too_long_are_refused_whole(app):
    content = (HEADER + "51,Tỉnh Quảng Ngãi,province,tỉnh,\n524,Huyện Bình Sơn,district,xã,51\n"
               "5240,Huyện X,district,huyện,51\n21046,Xã Bình Thạnh,commune,xã,524\n")
    with pytest.raises(ValidationFailed) as info:
        svc.import_directory(content)
    problems = {(e.line, e.code) for e in info.value.errors}
    assert {(3, "wrong_division_type"), (4, "bad_code")} <= problems
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_an_edition_code_that_is_not_a_code_is_refused(app):
    with pytest.raises(DomainError) as info:
        svc.import_directory(HEADER + "51,Tỉnh Quảng Ngãi,province,tỉnh,\n", edition="2025; drop")
    assert info.value.code == "bad_edition"
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_two_level_csv_puts_communes_under_their_province(app):
    content = HEADER + "51,Tỉnh Quảng Ngãi,province,tỉnh,\n23425,Xã Tu Mơ Rông,commune,xã,51\n" \
                       "21010,Đặc khu Lý Sơn,commune,đặc khu,51\n"
    result = svc.import_directory(content, edition="2025")
    assert result.created == 3
    province = unit("2025", "province", "51")
    assert {c.name for c in province.children} == {"Xã Tu Mơ Rông", "Đặc khu Lý Sơn"}


# --- today's map, from the vietnam-provinces package --------------------------------------------


def test_one_province_of_todays_map_beside_the_2023_one(directory):
    result = svc.import_current_map("51")
    assert (result.created, result.edition) == (97, "2025")
    assert count("2025") == {"province": 1, "commune": 96}
    old, new = unit("2023", "province", "51"), unit("2025", "province", "51")
    assert old.id != new.id and old.name == new.name == "Tỉnh Quảng Ngãi"
    assert len(old.children) == 13 and len(new.children) == 96  # districts then; communes now
    assert {c.level for c in new.children} == {"commune"}
    assert unit("2025", "commune", "23425").name == "Xã Tu Mơ Rông"  # a Kon Tum commune, merged in
    edition = db.session.get(Edition, "2025")
    assert edition.source == "vietnam-provinces 2025.10.1" and edition.data_date
    assert svc.import_current_map("51").unchanged == 97  # idempotent
    with pytest.raises(NotFound):
        svc.import_current_map("99")
    with pytest.raises(NotFound):
        svc.import_current_map("5'1")


def test_the_whole_country_under_a_national_root(app):
    svc.import_current_map("51")
    province_id = unit("2025", "province", "51").id
    result = svc.import_current_map()
    assert (result.created, result.updated, result.unchanged) == (3356 - 97, 1, 96)
    assert count("2025") == {"country": 1, "province": 34, "commune": 3321}
    root = unit("2025", "country", "VN")
    provinces = db.session.scalars(select(Unit).where(Unit.level == "province")).all()
    assert Counter(p.division_type for p in provinces) == {"tỉnh": 28, "thành phố trung ương": 6}
    assert {p.parent_id for p in provinces} == {root.id}
    kinds = Counter(db.session.scalars(select(Unit.division_type).where(Unit.level == "commune")))
    assert kinds == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert unit("2025", "province", "51").id == province_id  # the province loaded first is kept, now under VN
    assert svc.import_current_map("51").unchanged == 97  # a province loaded again stays under the root


def test_cli_loads_a_province_the_country_and_a_file_into_a_map(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["directory", "import", "--province", "51"])
    assert out.exit_code == 0, out.output
    assert "97 created" in out.output and "edition 2025" in out.output
    out = runner.invoke(args=["directory", "import", str(DATA / "kon-tum-units-2023.csv")])
    assert out.exit_code == 0 and "edition 2023: 113 created" in out.output, out.output
    out = runner.invoke(args=["directory", "import", "--province", "99"])
    assert out.exit_code == 1 and "unknown_province" in out.output
    out = runner.invoke(args=["directory", "import", "--province", "51", "--country"])
    assert out.exit_code != 0


def test_the_import_page_loads_a_province_of_todays_map(app, make_user):
    make_user("operator", username="op")
    client = app.test_client()
    login(client, "op")
    page = client.get("/directory/import").get_data(as_text=True)
    assert "Quảng Ngãi" in page and "vietnam-provinces 2025.10.1" in page
    resp = client.post("/directory/import/map", data={"province": "51"})
    assert resp.status_code == 200 and count("2025") == {"province": 1, "commune": 96}
    resp = client.post("/directory/import/map", data={"province": "77"})
    assert resp.status_code == 400
    csv = HEADER + "62,Tỉnh Kon Tum,province,tỉnh,\n608,Thành phố Kon Tum,district,thành phố,62\n"
    resp = client.post("/directory/import", data={"edition": "2023", "file": (io.BytesIO(csv.encode()), "kt.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 200 and count("2023") == {"province": 1, "district": 1}


# --- lookups by code: per map -------------------------------------------------------------------


def test_a_code_names_its_map_when_two_maps_hold_it(directory):
    svc.import_current_map("51")
    assert svc.find_unit("2023:51").edition == "2023"
    assert svc.find_unit("51").edition == "2025"  # the newest map by default
    assert svc.find_unit("524").level == "district"  # only 2023 has it
    host = create_user("qn", "test-pass-2023", "host", unit_codes=("2025:51",))
    assert host.units[0].edition == "2025"


def test_a_teams_file_is_read_in_the_map_that_holds_its_codes(directory):
    from launch.services import teams

    svc.import_current_map("51")
    result = teams.import_teams("unit_code,level,name,members\n524,district,Tổ Bình Sơn,9\n"
                                "21046,village,Tổ thôn 1,4\n")
    assert result.created == 2
    assert {t.unit.edition for t in db.session.scalars(select(teams.Team))} == {"2023"}


# --- the hierarchy events see -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "root", "group"),
    [
        ([(3, "commune"), (2, "district"), (1, "province")], 1, 2),  # 2023: a commune's district
        ([(2, "district"), (1, "province")], 1, 2),  # 2023: a district is its own group
        ([(3, "commune"), (1, "province")], 1, 1),  # two-level province: the province
        ([(3, "commune"), (1, "province"), (0, "country")], 0, 1),  # national: a commune's province
        ([(1, "province"), (0, "country")], 0, 1),  # national: a provincial IOC heads its province
        ([(3, "commune"), (1, "province"), (0, "country")], 1, 1),  # a province's launch, country loaded
        ([(3, "commune"), (1, "province")], 9, 1),  # another root: the top of the path stands for it
    ],
)
def test_group_of_follows_the_map(path, root, group):
    nodes = [Node(i, str(i), f"u{i}", level) for i, level in path]
    assert group_of(nodes, root).id == group


def test_a_two_level_province_launch_has_one_group_and_no_district_column(directory):
    svc.import_current_map("51")
    province = unit("2025", "province", "51")
    event = make_event(province, list(province.children))
    tiles = wall.load_tiles(event)
    assert len(tiles) == 97
    assert {t["district_id"] for t in tiles if not t["is_host"]} == {province.id}
    report = reports.attendance_report(event.id)
    assert report["group_level"] is None and reports.group_heading(report) is None
    headers = reports.export_headers(report)
    assert "Huyện" not in headers and "District" not in headers
    assert report["province"]["invited"] == 96


def test_a_national_launch_groups_points_by_province(app, make_user):
    svc.import_current_map()
    root = unit("2025", "country", "VN")
    units = db.session.scalars(select(Unit).where(Unit.edition == "2025", Unit.level != "country")).all()
    event = make_event(root, list(units), title="Lễ phát động toàn quốc")
    groups = wall.event_groups(event.id)
    assert len(groups) == 34 and {g["level"] for g in groups} == {"province"}
    qn = next(g for g in groups if g["code"] == "51")
    assert (qn["name"], qn["invited"], qn["checked_in"]) == ("Tỉnh Quảng Ngãi", 97, 0)  # its IOC + 96 communes
    assert sum(g["invited"] for g in groups) == 3355
    assert wall.is_group(event.id, qn["id"]) and not wall.is_group(event.id, root.id)
    report = reports.attendance_report(event.id, district_id=qn["id"])
    assert len(report["rows"]) == 97 and reports.group_heading(report) == "Tỉnh"
    # A provincial host acts for the province's communes; the national host for everything.
    commune = unit("2025", "commune", "23425")
    provincial = make_user("host", units=["2025:51"])
    national = make_user("host", units=["2025:VN"])
    assert access.can_act_for(provincial, commune.id) and not access.can_act_for(provincial, root.id)
    assert access.can_act_for(national, commune.id)


# --- history stays true -------------------------------------------------------------------------


def test_an_ended_event_keeps_the_units_it_was_held_with(directory):
    binh_son = unit("2023", "district", "524")
    event = make_event(unit("2023", "province", "51"), [binh_son, *binh_son.children], state="ended",
                       title="Đã diễn ra")
    upcoming = make_event(unit("2023", "province", "51"), [binh_son, *binh_son.children], title="Sắp tới")
    text = svc.BUNDLED_CSV.read_text(encoding="utf-8")
    text = text.replace("Xã Bình Thạnh", "Xã Bình Thạnh Mới").replace("Huyện Bình Sơn", "Huyện Bình Sơn Mới")
    # ...and Xã Bình Thạnh moves to another district.
    text = text.replace("21046,Xã Bình Thạnh Mới,commune,xã,524", "21046,Xã Bình Thạnh Mới,commune,xã,522")
    assert svc.import_directory(text).updated == 2  # two renamed, one of them moved too
    ended = {t["code"]: t for t in wall.load_tiles(event)}
    assert ended["21046"]["name"] == "Xã Bình Thạnh" and ended["21046"]["district_name"] == "Huyện Bình Sơn"
    assert ended["524"]["name"] == "Huyện Bình Sơn"
    rows = reports.export_rows(reports.attendance_report(event.id))
    assert ["21046", "Xã Bình Thạnh", "Huyện Bình Sơn"] in [r[:3] for r in rows]
    # An event that has not started follows the directory.
    following = {t["code"]: t for t in wall.load_tiles(upcoming)}
    assert following["21046"]["name"] == "Xã Bình Thạnh Mới"
    assert following["21046"]["district_name"] == "Thành phố Quảng Ngãi"
    assert hierarchy.refresh_open_events() == 24


def test_migration_0005_keeps_existing_rows_on_the_2023_map(database, request, tmp_path):
    """Rows written before maps existed become the 2023 edition; their points get their snapshot."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from launch import create_app
    from tests.support.services import fresh_pg_database

    url = fresh_pg_database(pg_database("maps_0005")) if database == "postgres" else f"sqlite:///{tmp_path}/m.db"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision="0004")
        now = "2023-07-28 01:00:00"
        with db.engine.begin() as conn:
            for uid, code, name, level, kind, parent in (
                (1, "51", "Tỉnh Quảng Ngãi", "province", "tỉnh", None),
                (2, "524", "Huyện Bình Sơn", "district", "huyện", 1),
                (3, "21046", "Xã Bình Thạnh", "commune", "xã", 2),
            ):
                conn.execute(text(
                    "INSERT INTO units (id, code, name, search_name, level, division_type, parent_id, "
                    "expected_attendance, created_dt, updated_dt) VALUES (:i, :c, :n, :n, :l, :k, :p, 0, :t, :t)"),
                    {"i": uid, "c": code, "n": name, "l": level, "k": kind, "p": parent, "t": now})
            conn.execute(text(
                "INSERT INTO events (id, title, start_dt, end_dt, state, host_unit_id, test_window_minutes, "
                "absence_grace_minutes, reminder_offsets, created_dt, updated_dt) "
                "VALUES (1, 'Lễ phát động', :t, :t, 'ended', 1, 60, 10, '[]', :t, :t)"), {"t": now})
            for pid, uid, is_host in ((1, 1, True), (2, 2, False), (3, 3, False)):
                conn.execute(text(
                    "INSERT INTO event_points (id, event_id, unit_id, is_host, expected_attendance, token_version, "
                    "in_call, call_seconds) VALUES (:p, 1, :u, :h, 0, 1, false, 0)"),
                    {"p": pid, "u": uid, "h": is_host})
        upgrade()
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM units WHERE edition = '2023'")) == 3
            assert conn.scalar(text("SELECT edition FROM events WHERE id = 1")) == "2023"
            points = conn.execute(text(
                "SELECT unit_code, unit_name, group_id, group_name, group_level FROM event_points ORDER BY id")).all()
        assert [tuple(p) for p in points] == [
            ("51", "Tỉnh Quảng Ngãi", 0, "Tỉnh Quảng Ngãi", "province"),
            ("524", "Huyện Bình Sơn", 2, "Huyện Bình Sơn", "district"),
            ("21046", "Xã Bình Thạnh", 2, "Huyện Bình Sơn", "district"),
        ]
        downgrade(revision="0004")
        upgrade()
        db.engine.dispose()
