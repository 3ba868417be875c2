"""The attendance report: per point, per district, province; absent and late; CSV, XLSX; timeline."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, Attendee, AttendeeCheckin, PointProblem, Unit
from launch.services import reports
from tests.support.factories import make_event, point_of

BINH_SON, BINH_THANH, TP = "524", "21046", "522"


@pytest.fixture
def held(users):
    """An event that started 40 minutes ago: some points on time, one late, the rest absent."""
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=40)
    event = make_event(state="live", start_dt=start)
    op = users["operator"]
    on_time = point_of(event, BINH_SON)
    on_time.checked_in_dt, on_time.checkin_method, on_time.checked_in_by_id = start - timedelta(minutes=5), "qr", op.id
    on_time.headcount = 42
    commune = point_of(event, BINH_THANH)
    commune.checked_in_dt, commune.checkin_method = start - timedelta(minutes=2), "manual"
    commune.checked_in_by_id = op.id
    commune.in_call, commune.call_joined_dt, commune.call_seconds = True, start, 600
    late = point_of(event, TP)
    late.checked_in_dt, late.checkin_method = start + timedelta(minutes=7), "api"
    db.session.add(PointProblem(event_point_id=late.id, kind="no_audio", text="Mất tiếng",
                                reported_dt=start + timedelta(minutes=8)))
    person = Attendee(event_id=event.id, unit_id=commune.unit_id, full_name="Nguyễn Văn A",
                      search_name="nguyen van a", badge_code="b" * 20)
    db.session.add(person)
    db.session.flush()
    db.session.add(AttendeeCheckin(event_id=event.id, attendee_id=person.id, event_point_id=commune.id,
                                   client_id="scan-1", scanned_dt=start))
    db.session.add_all([
        Activity(event_id=event.id, event_point_id=commune.id, kind="call_joined", created_dt=start),
        Activity(event_id=event.id, event_point_id=on_time.id, kind="presence_connected",
                 created_dt=start - timedelta(minutes=6)),
    ])
    db.session.commit()
    return event


def row(report, code):
    return next(r for r in report["rows"] if r["code"] == code)


def test_report_per_point_district_and_province(app, held):
    now = held.start_dt + timedelta(minutes=40)
    report = reports.attendance_report(held.id, now=now)
    assert len(report["rows"]) == 187
    assert report["rows"][0]["is_host"] is True
    assert row(report, BINH_SON)["attendance"] == "on_time"
    assert row(report, BINH_SON)["checked_in_by"] != ""
    assert row(report, TP)["attendance"] == "late"
    assert row(report, TP)["problems"] == ["no_audio"]
    commune = row(report, BINH_THANH)
    assert commune["attendee_checkins"] == 1
    assert commune["call_seconds"] == 600 + 40 * 60  # still in the call: counted up to now
    assert commune["checkin_method"] == "manual"
    assert row(report, "525")["attendance"] == "absent"
    province = report["province"]
    assert province["invited"] == 186 and province["checked_in"] == 3
    assert province["on_time"] == 2 and province["late"] == 1 and province["absent"] == 183
    assert province["headcount"] == 42 and province["problems"] == 1
    binh_son_id = db.session.scalar(select(Unit.id).where(Unit.code == BINH_SON))
    binh_son = next(d for d in report["districts"] if d["district_id"] == binh_son_id)
    assert binh_son["invited"] == 23 and binh_son["checked_in"] == 2
    assert [r["code"] for r in report["late"]] == [TP]
    assert len(report["absent"]) == 183


def test_before_the_deadline_points_are_pending_not_absent(app, users):
    event = make_event(start_dt=utcnow() + timedelta(hours=1))
    report = reports.attendance_report(event.id)
    assert {r["attendance"] for r in report["rows"] if not r["is_host"]} == {"pending"}
    assert report["absent"] == []


def test_district_report(app, held):
    district = db.session.scalar(select(Unit.id).where(Unit.code == BINH_SON))
    report = reports.attendance_report(held.id, district_id=district)
    assert len(report["rows"]) == 23
    assert report["province"]["checked_in"] == 2


def test_report_page_and_permissions(app, held, as_user):
    viewer = as_user("viewer")
    resp = viewer.get(f"/wall/{held.id}/report")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="timeline-chart"' in html and "chart.js-4.6.1/chart.umd.min." in html
    assert html.count('data-attendance="late"') == 1
    assert as_user("commune_host").get(f"/wall/{held.id}/report").status_code == 403
    district = db.session.scalar(select(Unit.id).where(Unit.code == BINH_SON))
    assert as_user("district_host").get(f"/wall/{held.id}/report?district={district}").status_code == 200
    assert as_user("district_host").get(f"/wall/{held.id}/report").status_code == 403


def test_csv_export_vietnamese_by_default_and_english_on_request(app, held, as_user):
    viewer = as_user("viewer")
    resp = viewer.get(f"/wall/{held.id}/report.csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("vi"):
            vi_headers = reports.export_headers()
        with force_locale("en"):
            en_headers = reports.export_headers()
    assert rows[0] == vi_headers
    assert len(rows) == 188
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[BINH_SON][8] == "42"
    viewer.get("/lang/en")
    rows_en = list(csv.reader(io.StringIO(viewer.get(f"/wall/{held.id}/report.csv").get_data().decode("utf-8-sig"))))
    assert rows_en[0] == en_headers
    assert rows_en[0][0] == "Code"
    en_by_code = {r[0]: r for r in rows_en[1:]}
    assert en_by_code[TP][7] == "Late" and en_by_code[TP][11] == "No audio"
    assert en_by_code["525"][7] == "Absent"


def test_xlsx_export(app, held, as_user):
    resp = as_user("operator").get(f"/wall/{held.id}/report.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    points, districts = book.worksheets
    assert points.max_row == 188
    codes = [points.cell(row=i, column=1).value for i in range(2, 189)]
    assert BINH_THANH in codes
    assert districts.max_row == 13 + 2  # heading, 13 districts, province
    assert districts.cell(row=15, column=2).value == 3


def test_timeline_replays_minute_by_minute(app, held):
    start = held.start_dt
    data = reports.timeline(held.id, now=start + timedelta(minutes=40))
    labels = data["labels"]
    assert labels[0] <= iso(start - timedelta(minutes=60))
    index = {label: i for i, label in enumerate(labels)}
    at = lambda minutes: index[iso(start + timedelta(minutes=minutes))]  # noqa: E731
    assert data["checked_in"][at(-10)] == 0
    assert data["checked_in"][at(-5)] == 1
    assert data["checked_in"][at(-2)] == 2
    assert data["checked_in"][at(7)] == 3
    assert data["checked_in"][-1] == 3
    assert data["in_call"][at(-1)] == 0 and data["in_call"][at(0)] == 1
    assert data["page_live"][at(-6)] == 1
    assert data["invited"] == 186
    assert len(data["labels"]) == len(data["checked_in"]) == len(data["in_call"]) == len(data["page_live"])


def test_timeline_json_route(app, held, as_user):
    resp = as_user("viewer").get(f"/wall/{held.id}/timeline.json")
    assert resp.status_code == 200 and resp.json["checked_in"][-1] == 3


def test_a_district_timeline_counts_that_district_only(app, held, as_user):
    binh_son = db.session.scalar(select(Unit.id).where(Unit.code == BINH_SON))
    in_district = db.session.scalar(select(func.count()).select_from(Unit).where(
        (Unit.id == binh_son) | (Unit.parent_id == binh_son)))
    data = reports.timeline(held.id, binh_son, now=held.start_dt + timedelta(minutes=40))
    assert data["invited"] == in_district and data["district_id"] == binh_son
    assert data["checked_in"][-1] == 2  # Bình Sơn and Bình Thạnh; TP Quảng Ngãi's late check-in is not theirs
    assert max(data["in_call"]) == 1 and max(data["page_live"]) == 1
    host = as_user("district_host")
    mine = host.get(f"/wall/{held.id}/timeline.json?district={binh_son}")
    assert mine.status_code == 200 and mine.json["checked_in"][-1] == 2
    assert host.get(f"/wall/{held.id}/timeline.json").status_code == 403  # the province's is not theirs
    report = host.get(f"/wall/{held.id}/report?district={binh_son}").get_data(as_text=True)
    assert f'"invited": {in_district}' in report


def test_exports_do_not_mark_the_ioc_itself_absent(app, held, as_user):
    """The page counts 183 absent points; the CSV had 184 rows saying so (the IOC among them)."""
    viewer = as_user("viewer")
    viewer.get("/lang/en")
    page = viewer.get(f"/wall/{held.id}/report").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(viewer.get(f"/wall/{held.id}/report.csv").get_data().decode("utf-8-sig"))))
    absent_rows = [r for r in rows[1:] if r[7] == "Absent"]
    assert len(absent_rows) == 183 == page.count('data-attendance="absent"')
    ioc = next(r for r in rows[1:] if r[0] == "51")
    assert ioc[7] == "Host point"
    book = load_workbook(io.BytesIO(viewer.get(f"/wall/{held.id}/report.xlsx").data))
    assert sum(1 for r in book.worksheets[0].iter_rows(min_row=2, values_only=True) if r[7] == "Absent") == 183
