"""The inputs the property tests found to break the app (each was a 500), pinned on SQLite and PostgreSQL:
a clear 4xx with a message, and nothing written."""
from __future__ import annotations

import io

import pytest

from launch.extensions import db
from launch.models import Team
from tests.support.security import diff, snapshot


def refused(resp, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    if resp.mimetype == "application/json":
        body = resp.get_json()
        assert body["ok"] is False and body["message"]
        if code:
            assert body["code"] == code


@pytest.mark.parametrize("path", ["/api/v1/points/99999999999999999999999", "/c/points/9223372036854775808",
                                  "/events/2147483648", "/wall/99999999999999999999/snapshot.json"])
def test_ids_too_big_for_the_database_are_404(as_user, world, path):
    refused(as_user("operator").get(path), 404)


@pytest.mark.parametrize("attendee_id", [10**30, 2**31, -1, 0, "1e400", float("inf"), [1], {"id": 1}])
def test_attendee_ids_the_database_cannot_hold_are_invalid_input(as_user, world, clock, attendee_id):
    host = as_user("commune_host")
    before = snapshot()
    resp = host.post(f"/api/v1/points/{world.point_id}/attendee-checkins",
                                        json={"client_id": "scan-regress-1", "attendee_id": attendee_id})
    refused(resp, 400, "invalid_input")
    assert diff(before, snapshot()) == {}


@pytest.mark.parametrize("text", [123, ["Mất tiếng"], {"a": 1}, True])
def test_problem_text_of_the_wrong_type_is_invalid_input(as_user, world, clock, text):
    host = as_user("commune_host")
    before = snapshot()
    resp = host.post(f"/api/v1/points/{world.point_id}/problems",
                                        json={"kind": "other", "text": text})
    refused(resp, 400, "invalid_input")
    assert diff(before, snapshot()) == {}


def test_nul_bytes_in_text_are_refused_or_kept_never_a_500(as_user, world, clock):
    """PostgreSQL cannot store NUL in text; SQLite can. Either way: no 5xx, no partial write."""
    host, operator = as_user("commune_host"), as_user("operator")
    before = snapshot()
    resp = host.post(f"/api/v1/points/{world.point_id}/problems", json={"kind": "other", "text": "Mất\x00tiếng"})
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:300]
    if resp.status_code == 400:
        refused(resp, 400)
        assert diff(before, snapshot()) == {}
    page = operator.post(f"/directory/units/{world.unit_id}", data={"notes": "Ghi\x00chú"})
    assert page.status_code in (200, 302, 400)


@pytest.mark.parametrize("query", ["page=99999999999999999999", "page=1000001"])
def test_page_numbers_past_any_list_are_404(as_user, world, query):
    for path in ("/directory/", "/notices/", "/admin/audit", "/campaigns/", "/notices/log"):
        refused(as_user("operator").get(f"{path}?{query}"), 404)


@pytest.mark.parametrize("path", ["/campaigns/teams?district={big}", "/campaigns/{campaign_id}?district={big}",
                                  "/campaigns/{campaign_id}/report?unit={big}", "/notices/log?event_id={big}",
                                  "/campaigns/teams/new?unit={big}"])
def test_query_ids_too_big_for_the_database_are_never_a_500(as_user, world, path):
    resp = as_user("operator").get(world.fmt(path.replace("{big}", "9223372036854775808")))
    assert resp.status_code in (200, 400, 404), resp.status_code


def test_renaming_a_team_onto_another_with_vietnamese_capitals_is_refused(as_user, world):
    """SQLite's lower() leaves "Đ" upper-case: the clash check missed it and the UNIQUE index said 500."""
    district = db.session.scalars(db.select(Team).where(Team.level == "district")).first()
    other = db.session.scalars(db.select(Team).where(Team.id != district.id)).first()
    operator = as_user("operator")
    before = snapshot()
    resp = operator.post(f"/campaigns/teams/{other.id}/edit", data={
        "unit_id": str(district.unit_id), "level": "district", "name": district.name.upper(), "members": "3"})
    assert resp.status_code == 400 and "flash-error" in resp.get_data(as_text=True)
    assert diff(before, snapshot()) == {}


@pytest.mark.parametrize(("url", "header"), [
    ("/directory/import", "code,name,level,division_type,parent_code"),
    ("/c/events/{event_id}/roster", "name,unit,position"),
    ("/campaigns/teams/import", "unit_code,level,name,members"),
])
@pytest.mark.parametrize("where", ["header", "row"])
def test_a_csv_field_over_the_csv_module_limit_refuses_the_file(as_user, world, url, header, where):
    """csv raises `field larger than field limit (131072)`: the whole file is refused with the line."""
    big = "Đ" * 140_000
    body = f"{header},{big}\n" if where == "header" else f"{header}\n524,\"{big}\",district,huyện,51\n"
    operator = as_user("operator")
    before = snapshot()
    resp = operator.post(world.fmt(url), data={"file": (io.BytesIO(body.encode()), "big.csv")},
                                    content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code in (200, 400) and "flash-error" in html
    assert ("Dòng 1" if where == "header" else "Dòng 2") in html
    assert diff(before, snapshot()) == {}
