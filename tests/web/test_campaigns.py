"""Campaign pages: dashboards by role, the hosts' report form, the live JSON, exports, creation by form."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from launch.clock import as_utc
from launch.demo import campaigns as demo_campaigns
from launch.extensions import db
from launch.models import Unit
from launch.models.campaigns import Campaign, ProgressReport
from launch.services import campaigns as svc
from launch.services import teams as team_svc
from tests.services.test_campaigns import TEAMS, campaign_data


def L(*args: int) -> datetime:  # noqa: N802
    return as_utc(datetime(*args))


def uid(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


@pytest.fixture
def campaign(users):
    team_svc.import_teams(TEAMS)
    return svc.save_campaign(campaign_data(), actor=users["operator"], now=L(2023, 8, 1, 9, 0))


@pytest.fixture
def published(monkeypatch):
    """Records the campaigns the publisher was told about."""
    calls: list[int] = []
    monkeypatch.setattr("launch.realtime.publisher.campaign_updated", calls.append)
    return calls


def english(client):
    client.get("/lang/en")
    return client


def report_form(c: Campaign, unit: str, period: int, residents, cashless=0) -> dict:
    return {"unit": uid(unit), "period": period, f"m-{c.metrics[0].id}": residents,
            f"m-{c.metrics[1].id}": cashless}


def test_pages_by_role(campaign, client, as_user):
    cid = campaign.id
    for url in ("/campaigns/", f"/campaigns/{cid}", f"/campaigns/{cid}/data.json", f"/campaigns/{cid}/report",
                f"/campaigns/{cid}/export.csv"):
        resp = client.get(url)
        assert resp.status_code in (302, 401) and "/login" in resp.headers.get("Location", "/login"), url
    for role in ("operator", "viewer", "district_host", "commune_host"):
        c = as_user(role)
        assert c.get(f"/campaigns/{cid}").status_code == 200, role
        assert c.get(f"/campaigns/{cid}/history").status_code == 200, role
        assert f'href="/campaigns/{cid}"'.encode() in c.get("/campaigns/").data, role
    other = as_user("other_host")  # Thành phố Quảng Ngãi: not in this campaign
    assert other.get(f"/campaigns/{cid}").status_code == 403
    assert other.get(f"/campaigns/{cid}/data.json").status_code == 403
    assert other.get(f"/campaigns/{cid}/report").status_code == 403
    assert other.get(f"/campaigns/{cid}/export.xlsx").status_code == 403
    assert f'href="/campaigns/{cid}"'.encode() not in other.get("/campaigns/").data
    viewer = as_user("viewer")
    assert viewer.get(f"/campaigns/{cid}/report").status_code == 403
    assert viewer.get("/campaigns/new").status_code == 403
    assert viewer.get(f"/campaigns/{cid}/targets").status_code == 200  # reads everything
    assert viewer.post(f"/campaigns/{cid}/targets", data={}).status_code == 403
    assert viewer.post(f"/campaigns/{cid}/cancel").status_code == 403
    host = as_user("district_host")
    assert host.get(f"/campaigns/{cid}/edit").status_code == 403


def test_host_reports_from_the_phone_form_and_dashboards_update(campaign, as_user, published):
    with time_machine.travel(L(2023, 8, 5, 15, 0), tick=False) as clock:
        host = english(as_user("commune_host"))
        page = host.get(f"/campaigns/{campaign.id}/report")
        assert page.status_code == 200 and "Xã Bình Thạnh".encode() in page.data
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 0, 33, 4))
        assert resp.status_code == 302
        assert published == [campaign.id]
        rep = db.session.scalar(select(ProgressReport))
        assert (rep.unit_id, rep.period_index, rep.is_late, rep.reported_by.username) == (uid("21046"), 0, False,
                                                                                           "chost")
        clock.move_to(L(2023, 8, 5, 20, 0))  # after the cut-off: a late correction
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 0, 35, 4),
                         follow_redirects=True)
        assert resp.status_code == 200 and b"version 2" in resp.data and b"marked late" in resp.data
        assert b"superseded" in resp.data  # the history shows the first version
        data = host.get(f"/campaigns/{campaign.id}/data.json").get_json()
    assert data["totals"]["values"]["residents_guided"] == 35
    assert [u["code"] for u in data["units"]] == ["21046"]  # a commune host sees its own unit only
    assert data["units"][0]["status"] == "on_time" and data["units"][0]["targets"]["residents_guided"] == 77
    assert "campaign-live" not in data["html"] and "Xã Bình Thạnh" in data["html"]

    with time_machine.travel(L(2023, 8, 5, 20, 0), tick=False):
        operator = as_user("operator")
        data = operator.get(f"/campaigns/{campaign.id}/data.json").get_json()
    assert len(data["units"]) == 22 and data["totals"]["missing"] == 21 and data["totals"]["on_time"] == 1
    assert data["districts"][0]["code"] == "524" and data["trend"]["cumulative"] == [35]


def test_report_form_refusals(campaign, as_user, published):
    with time_machine.travel(L(2023, 8, 5, 15, 0), tick=False):
        host = english(as_user("commune_host"))
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 0, -5))
        assert resp.status_code == 400 and b"cannot be negative" in resp.data
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 2, 5))
        assert resp.status_code == 400 and b"has not started" in resp.data
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 40, 5))
        assert resp.status_code == 400 and b"outside the campaign" in resp.data
        resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21043", 0, 5))
        assert resp.status_code == 403  # another commune: outside the host's scope
        json_resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21043", 0, 5),
                              headers={"Accept": "application/json"})
        assert json_resp.get_json()["code"] == "out_of_scope"
    assert db.session.scalar(select(func.count()).select_from(ProgressReport)) == 0
    assert published == []


def test_dashboard_drill_down_and_filters(campaign, as_user):
    svc.submit_report(campaign, uid("21046"), 0, {campaign.metrics[0].id: 70, campaign.metrics[1].id: 1},
                      user=campaign.created_by, now=L(2023, 8, 5, 9, 0))
    with time_machine.travel(L(2023, 8, 6, 12, 0), tick=False):
        operator = english(as_user("operator"))
        page = operator.get(f"/campaigns/{campaign.id}")
        assert page.status_code == 200
        assert b'data-room="campaign:' in page.data and b"chart.umd.min." in page.data
        assert b"<script>" not in page.data  # CSP: no inline scripts
        assert page.data.count(b"<tr class=\"below\"") >= 1  # units behind the target pace are highlighted
        below = operator.get(f"/campaigns/{campaign.id}?show=below").data
        assert b'data-unit="21046"' not in below and b'data-unit="21043"' in below
        missing = operator.get(f"/campaigns/{campaign.id}?show=missing").data
        assert b'data-unit="21046"' not in missing and b'data-unit="21040"' in missing
        # Pagination: 22 communes, 25 a page -> one page; the JSON follows the same filters.
        data = operator.get(f"/campaigns/{campaign.id}/data.json?show=below").get_json()
        assert "21046" not in [u["code"] for u in data["units"]]
        assert data["top"][0]["code"] == "21046"


def test_province_dashboard_groups_by_district_and_paginates(users, as_user):
    team_svc.import_teams(demo_campaigns.demo_teams_csv())
    c = svc.save_campaign(campaign_data(district_ids=[]), actor=users["operator"], now=L(2023, 8, 1, 9, 0))
    assert len(c.units) == 173
    with time_machine.travel(L(2023, 8, 5, 18, 0), tick=False):
        operator = english(as_user("operator"))
        page = operator.get(f"/campaigns/{c.id}").data
        assert page.count(b"data-district=") == 12  # Lý Sơn has no commune
        drill = operator.get(f"/campaigns/{c.id}?district={uid('524')}").data
        assert drill.count(b"data-unit=") == 22
        missing = operator.get(f"/campaigns/{c.id}?show=missing").data
        assert missing.count(b"data-unit=") == 25 and b'rel="next"' in missing
        last = operator.get(f"/campaigns/{c.id}?show=missing&page=7").data
        assert last.count(b"data-unit=") == 173 - 6 * 25


def test_exports_parse_back(campaign, as_user):
    svc.submit_report(campaign, uid("21046"), 0, {campaign.metrics[0].id: 40, campaign.metrics[1].id: 3},
                      user=campaign.created_by, now=L(2023, 8, 5, 9, 0))
    svc.submit_report(campaign, uid("21043"), 0, {campaign.metrics[0].id: 8, campaign.metrics[1].id: 0},
                      user=campaign.created_by, now=L(2023, 8, 5, 19, 0))
    with time_machine.travel(L(2023, 8, 6, 12, 0), tick=False):
        operator = english(as_user("operator"))
        resp = operator.get(f"/campaigns/{campaign.id}/export.csv?kind=results")
        assert resp.mimetype == "text/csv" and "attachment" in resp.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
        assert rows[0][:5] == ["District", "Unit code", "Unit", "Team members", "Residents guided"]
        assert len(rows) == 23
        thanh = next(r for r in rows if r[1] == "21046")
        assert thanh[0] == "Huyện Bình Sơn" and thanh[3] == "11" and thanh[4:7] == ["40", "77", "51.9"]

        resp = operator.get(f"/campaigns/{campaign.id}/export.xlsx?kind=status")
        sheet = load_workbook(io.BytesIO(resp.data)).active
        table = [[c.value for c in row] for row in sheet.iter_rows()]
        assert table[0][:6] == ["Period", "Cut-off", "District", "Unit code", "Unit", "Status"]
        assert len(table) == 1 + 2 * 22  # two periods started, 22 units
        by_unit = {(r[0], r[3]): r for r in table[1:]}
        assert by_unit[("05/08/2023", "21046")][5] == "Reported on time" and by_unit[("05/08/2023", "21046")][9] == 40
        assert by_unit[("05/08/2023", "21043")][5] == "Reported late"
        assert by_unit[("05/08/2023", "21040")][5] == "Not reported"
        assert by_unit[("06/08/2023", "21046")][5] == "Not yet due"

        results = load_workbook(io.BytesIO(operator.get(
            f"/campaigns/{campaign.id}/export.xlsx?kind=results").data)).active
        assert results.cell(row=1, column=1).value == "District" and results.max_row == 23

    with time_machine.travel(L(2023, 8, 6, 12, 0), tick=False):
        host = english(as_user("commune_host"))
        rows = list(csv.reader(io.StringIO(host.get(f"/campaigns/{campaign.id}/export.csv?kind=status")
                                           .data.decode("utf-8-sig"))))
    assert {r[3] for r in rows[1:]} == {"21046"}  # a host exports its own scope only


def test_exports_default_to_vietnamese_headings(app, campaign, as_user):
    from flask_babel import force_locale, gettext

    resp = as_user("operator").get(f"/campaigns/{campaign.id}/export.csv")
    heading = next(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    with app.test_request_context(), force_locale("vi"):
        expected = [gettext("District"), gettext("Unit code"), gettext("Unit"), gettext("Team members")]
    assert heading[:4] == expected  # the Vietnamese catalogue's words (English until it has them)
    assert heading[4] == "Residents guided" and len(heading) == 4 + 3 * 2 + 3  # metric names as the campaign has them


def test_operator_creates_campaign_by_form(users, as_user):
    team_svc.import_teams(TEAMS)
    operator = english(as_user("operator"))
    page = operator.get("/campaigns/new?template=seven_in_seven")
    assert page.status_code == 200 and b"residents_guided" in page.data
    form = {"name": "Chiến dịch thử", "date_mode": "dates", "start": "2023-08-10T00:00", "end": "2023-08-09T00:00",
            "rhythm": "weekly", "cutoff": "16:00", "escalation_minutes": "60", "reporting_level": "district",
            "metric-0-label": "Hồ sơ trực tuyến", "metric-0-rule": "per_member", "metric-0-value": "0"}
    resp = operator.post("/campaigns/new", data=form)
    assert resp.status_code == 400
    assert b'data-code="end_before_start"' in resp.data and b'data-code="bad_target"' in resp.data
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    form.update({"end": "2023-09-10T00:00", "metric-0-value": "2"})
    resp = operator.post("/campaigns/new", data=form)  # its period is over: the form asks first
    assert resp.status_code == 409 and b'data-code="campaign_over"' in resp.data
    assert b'name="confirm_over"' in resp.data and db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    resp = operator.post("/campaigns/new", data={**form, "confirm_over": "1"})
    assert resp.status_code == 302
    c = db.session.scalar(select(Campaign))
    assert len(c.units) == 13 and c.rhythm == "weekly" and c.metrics[0].key == "ho_so_truc_tuyen"
    assert svc.targets(c)[(uid("524"), c.metrics[0].id)] == 25 * 2
    # Edit keeps the campaign; targets page overrides one unit.
    resp = operator.post(f"/campaigns/{c.id}/targets", data={f"t-{uid('524')}-{c.metrics[0].id}": "99"})
    assert resp.status_code == 302 and svc.targets(c)[(uid("524"), c.metrics[0].id)] == 99
    resp = operator.post(f"/campaigns/{c.id}/targets", data={f"t-{uid('524')}-{c.metrics[0].id}": "-1"})
    assert resp.status_code == 400 and svc.targets(c)[(uid("524"), c.metrics[0].id)] == 99
    assert operator.get(f"/campaigns/{c.id}/edit").status_code == 200
    resp = operator.post(f"/campaigns/{c.id}/cancel")
    assert resp.status_code == 302
    db.session.refresh(c)
    assert c.state == "cancelled"


def test_home_page_shows_running_campaigns(campaign, as_user):
    with time_machine.travel(L(2023, 8, 5, 12, 0), tick=False):
        host = english(as_user("commune_host"))
        from launch.jobs.tasks import run_due_tasks

        run_due_tasks()
        page = host.get("/").data
    assert b"Running campaigns" in page and f"/campaigns/{campaign.id}/report".encode() in page


def test_a_report_reaches_open_dashboards_over_socketio(app, campaign, as_user):
    from launch.extensions import socketio

    with time_machine.travel(L(2023, 8, 5, 15, 0), tick=False):
        viewer = socketio.test_client(app, flask_test_client=as_user("viewer"))
        try:
            assert viewer.emit("join", {"room": f"campaign:{campaign.id}"}, callback=True)["ok"] is True
            viewer.get_received()
            host = as_user("commune_host")
            resp = host.post(f"/campaigns/{campaign.id}/report", data=report_form(campaign, "21046", 0, 12))
            assert resp.status_code == 302
            updates = [m["args"][0] for m in viewer.get_received() if m["name"] == "campaign_update"]
            assert updates == [{"campaign_id": campaign.id}]
        finally:
            viewer.disconnect()
