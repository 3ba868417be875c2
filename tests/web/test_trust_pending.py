"""Issue 16, phase B: the items that live in the check-in, events and campaigns services.

* a host checks in (and finds) only the people of their units; an operator's per-event "walk-ins from
  other units" (events.allow_walk_ins) lifts that, and the scanner and the answer say so;
* a cancelled or ended event refuses headcounts, problems and connection tests (409 `closed`);
* a correction sent after the cut-off makes the period's status "late", as the host is told;
* the operator gives each point its Zoom participant name and e-mail on the points page, and the
  meeting's webhooks land on that point.
"""
# ruff: noqa: F811  (the fixtures are imported from test_trust_scope, as pytest needs them here)
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import EventPoint
from tests.support.factories import make_event, point_of
from tests.web.test_campaigns import english
from tests.web.test_trust_scope import (  # noqa: F401
    BINH_THANH,
    NGUYEN_NGHIEM_DUC_PHO,
    NGUYEN_NGHIEM_TP,
    TP,
    _join,
    _scan,
    binh_son_campaign,
    launch_day,
    user,
    zoom_event,
)


def test_a_host_cannot_check_in_someone_elses_person_who_then_checks_in_at_home(app, launch_day, as_user):
    from launch.models import AttendeeCheckin, AuditEntry
    from launch.services.tokens import badge_token

    event, binh_thanh, _city = launch_day
    city_point, home_point = point_of(event, TP), point_of(event, BINH_THANH)
    refused = _scan(as_user("other_host"), city_point.id, binh_thanh.id, 1)
    assert refused.status_code == 403 and refused.json["code"] == "not_your_attendee"
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(  # nothing written at all
        AuditEntry.action == "checkin.refused")) == 0
    badge = as_user("other_host").post(f"/api/v1/points/{city_point.id}/attendee-checkins",
                                       json={"badge": badge_token(binh_thanh), "client_id": "scan-badge-abcdef"})
    assert badge.status_code == 403 and badge.json["code"] == "not_your_attendee"  # by badge as by name
    assert "Xã Bình Thạnh" in badge.json["message"]
    home = _scan(as_user("commune_host"), home_point.id, binh_thanh.id, 2)
    assert home.status_code == 200 and home.json["code"] == "checked_in"  # was checked_in_elsewhere


def test_walk_ins_when_the_operator_allows_them_and_the_scanner_says_so(app, launch_day, as_user):
    event, binh_thanh, _city = launch_day
    city_point = point_of(event, TP)
    scanner_before = as_user("other_host").get(f"/c/points/{city_point.id}/scan").get_data(as_text=True)
    assert 'id="walk-ins"' not in scanner_before
    from launch.services import events as event_svc

    event_svc.set_walk_ins(event, True, actor=user("op"))
    city_host = as_user("other_host")
    assert 'id="walk-ins"' in city_host.get(f"/c/points/{city_point.id}/scan").get_data(as_text=True)
    names = {p["name"] for p in city_host.get(f"/api/v1/events/{event.id}/attendees?q=binh").json["attendees"]}
    assert "Trần Thị Bình" in names  # to find the walk-in by name
    answer = _scan(city_host, city_point.id, binh_thanh.id, 3)
    assert answer.status_code == 200 and answer.json["code"] == "checked_in" and answer.json["walk_in"] is True
    assert "Xã Bình Thạnh" in answer.json["message"]  # the phone says where the walk-in is from
    again = _scan(city_host, city_point.id, binh_thanh.id, 3)  # a retry gets the first answer
    assert again.json["replay"] is True and again.json["walk_in"] is True
    own = _scan(city_host, city_point.id, _city.id, 4)
    assert own.status_code == 200 and own.json["walk_in"] is False


def test_the_operator_turns_walk_ins_on_from_the_event_page(app, launch_day, as_user):
    from launch.models import AuditEntry, Event

    event, _b, _c = launch_day
    operator = as_user("operator")
    assert as_user("other_host").post(f"/events/{event.id}/walk-ins", data={"allow": "1"}).status_code == 403
    assert operator.post(f"/events/{event.id}/walk-ins", data={"allow": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).allow_walk_ins is True
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.walk_ins")) is not None
    assert operator.post(f"/events/{event.id}/walk-ins", data={"allow": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).allow_walk_ins is False
    page = operator.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'action="/events/{event.id}/walk-ins"' in page and 'name="csrf_token"' in page


@pytest.mark.parametrize("state", ["cancelled", "ended"])
def test_closed_events_refuse_the_hosts_reports(app, users, as_user, state):
    from launch.models import Activity, PointProblem

    event = make_event(state=state, start_dt=utcnow() - timedelta(minutes=30))
    event.state_changed_dt = utcnow() - timedelta(minutes=1)
    db.session.commit()
    point = point_of(event, BINH_THANH)
    host = as_user("commune_host")
    for path, body in (("headcount", {"headcount": 40}), ("problems", {"kind": "no_audio"}),
                       ("connection-test", {})):
        resp = host.post(f"/api/v1/points/{point.id}/{path}", json=body)
        assert resp.status_code == 409 and resp.json["code"] == "closed", (path, resp.json)
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert point.headcount is None and point.connection_tested_dt is None
    assert db.session.scalar(select(func.count()).select_from(PointProblem)) == 0
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 0


def test_a_correction_after_the_cut_off_is_late_in_the_status_too(app, binh_son_campaign, users):
    from launch.models import Unit
    from launch.services import campaigns as svc
    from tests.services.test_campaigns import L

    campaign = binh_son_campaign
    unit_id = db.session.scalar(select(Unit.id).where(Unit.code == BINH_THANH))

    def values(n: int) -> dict:
        return {m.id: n for m in campaign.metrics}

    first = svc.submit_report(campaign, unit_id, 0, values(30), user=users["commune_host"], now=L(2023, 8, 5, 16, 0))
    assert first.is_late is False
    row = next(r for r in svc.progress(campaign, now=L(2023, 8, 5, 16, 30))["units"] if r.unit.id == unit_id)
    assert row.statuses[0] == "on_time"
    late = svc.submit_report(campaign, unit_id, 0, values(45), user=users["commune_host"], now=L(2023, 8, 5, 18, 0))
    assert late.is_late is True  # what the host is told ("recorded as late") ...
    row = next(r for r in svc.progress(campaign, now=L(2023, 8, 5, 18, 30))["units"] if r.unit.id == unit_id)
    assert row.statuses[0] == "late"  # ... is what the dashboard and the exports say


def test_the_host_page_of_a_closed_event_says_so_and_its_forms_refuse(app, users, as_user):
    event = make_event(state="cancelled", start_dt=utcnow() - timedelta(minutes=30))
    point = point_of(event, BINH_THANH)
    host = english(as_user("commune_host"))
    page = host.get(f"/c/points/{point.id}").get_data(as_text=True)
    assert 'id="event-closed"' in page and "Sound and picture work" not in page
    for path, form in (("headcount", {"headcount": "40"}), ("connection-test", {}), ("problem", {"kind": "no_audio"})):
        resp = host.post(f"/c/points/{point.id}/{path}", data=form, follow_redirects=True)
        assert resp.status_code == 200 and "takes no more reports" in resp.get_data(as_text=True), path
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert point.headcount is None and point.connection_tested_dt is None


# --- Zoom: the operator names each point's Zoom participant on the points page -------------------

def test_the_operator_gives_each_point_its_zoom_name_and_email_and_webhooks_follow(app, zoom_event, as_user):
    from launch.models import AuditEntry

    tp, duc_pho = point_of(zoom_event, NGUYEN_NGHIEM_TP), point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO)
    operator = english(as_user("operator"))
    page = operator.get(f"/events/{zoom_event.id}/points").get_data(as_text=True)
    assert f'name="meeting_name-{tp.id}"' in page and f'name="meeting_email-{duc_pho.id}"' in page
    form = {f"meeting_name-{tp.id}": "  UBND Phường Nguyễn Nghiêm (TP) ",
            f"meeting_email-{duc_pho.id}": "nguyennghiem.ducpho@quangngai.gov.vn"}
    assert as_user("viewer").post(f"/events/{zoom_event.id}/points", data=form).status_code == 403
    assert as_user("other_host").post(f"/events/{zoom_event.id}/points", data=form).status_code == 403
    assert operator.post(f"/events/{zoom_event.id}/points", data=form).status_code == 302
    db.session.expire_all()
    tp, duc_pho = point_of(zoom_event, NGUYEN_NGHIEM_TP), point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO)
    assert (tp.meeting_name, duc_pho.meeting_email) == ("UBND Phường Nguyễn Nghiêm (TP)",
                                                        "nguyennghiem.ducpho@quangngai.gov.vn")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.points_updated")) is not None
    client = app.test_client()
    assert _join(client, "Phường Nguyễn Nghiêm", email="NguyenNghiem.DucPho@quangngai.gov.vn",
                 uuid="a").json["point_id"] == duc_pho.id
    assert _join(client, "ubnd phuong nguyen nghiem (tp)", uuid="b").json["point_id"] == tp.id

    # One name (diacritics aside) or one e-mail on two points could never be told apart: refused whole.
    for bad, words in (({f"meeting_name-{duc_pho.id}": "UBND Phuong Nguyen Nghiem (TP)",
                         f"meeting_email-{tp.id}": "tp@quangngai.gov.vn"}, "same Zoom participant name"),
                       ({f"meeting_email-{tp.id}": "NGUYENNGHIEM.DUCPHO@quangngai.gov.vn"}, "same Zoom e-mail"),
                       ({f"meeting_email-{tp.id}": "not an e-mail"}, "not an e-mail address"),
                       ({f"meeting_name-{tp.id}": "x" * 201}, "too long")):
        resp = operator.post(f"/events/{zoom_event.id}/points", data=bad)
        assert resp.status_code == 400 and words in resp.get_data(as_text=True), bad
        db.session.expire_all()
        tp, duc_pho = point_of(zoom_event, NGUYEN_NGHIEM_TP), point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO)
        assert (tp.meeting_name, tp.meeting_email, duc_pho.meeting_name) == ("UBND Phường Nguyễn Nghiêm (TP)",
                                                                             None, None)
    # Emptied, the point is matched by nothing again.
    assert operator.post(f"/events/{zoom_event.id}/points", data={f"meeting_name-{tp.id}": ""}).status_code == 302
    db.session.expire_all()
    assert point_of(zoom_event, NGUYEN_NGHIEM_TP).meeting_name is None
