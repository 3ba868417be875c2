"""Issue 14 phase B through HTTP: undo from the scanner (JSON), the host page and the operator's pages;
problems marked resolved from the host page and the wall; the host page's closing beacon; the wall's
and the report's expected people ("—" when unknown, never "x/0")."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import AttendeeCheckin, EventPoint, PointProblem, UndoneCheckin
from launch.services import checkin, presence, tokens
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.usefixtures("clock")
JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def scanned(client, point, person, client_id: str) -> dict:
    resp = client.post(f"/api/v1/points/{point.id}/attendee-checkins", headers=JSON,
                       json={"client_id": client_id, "badge": tokens.badge_token(person)})
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


def test_the_scanner_undoes_a_check_in_within_the_window_then_only_the_ioc_can(app, event, as_user, clock):
    host, operator = as_user("commune_host"), as_user("operator")
    point = point_of(event, "21046")
    person = add_attendee(event, "21046", "Lê Văn Cường")
    config = host.get(f"/c/points/{point.id}/scan").get_data(as_text=True)
    assert '"undoUrl": "/c/checkins/0/undo"' in config and '"undoMinutes": 5.0' in config

    first = scanned(host, point, person, "scan-wrong-0001")
    resp = host.post(f"/c/checkins/{first['checkin_id']}/undo", headers=JSON)
    assert resp.status_code == 200 and resp.get_json()["code"] == "undone"
    assert resp.get_json()["attendee"]["id"] == person.id
    assert count(AttendeeCheckin) == 0 and count(UndoneCheckin) == 1
    # The roster the phone keeps no longer marks the person checked in.
    roster = host.get(f"/api/v1/points/{point.id}/roster").get_json()["attendees"]
    assert [p["checked_in_dt"] for p in roster if p["id"] == person.id] == [None]

    second = scanned(host, point, person, "scan-right-0002")
    clock.shift(timedelta(minutes=6))
    late = host.post(f"/c/checkins/{second['checkin_id']}/undo", headers=JSON)
    assert late.status_code == 409 and late.get_json()["code"] == "undo_too_late"
    assert count(AttendeeCheckin) == 1
    assert as_user("other_host").post(f"/c/checkins/{second['checkin_id']}/undo", headers=JSON).status_code == 403
    assert operator.post(f"/c/checkins/{second['checkin_id']}/undo", headers=JSON).get_json()["code"] == "undone"
    assert host.post("/c/checkins/999999/undo", headers=JSON).status_code == 404


def test_the_operator_undoes_from_the_roster_page_and_comes_back_to_it(app, event, as_user, users):
    operator = as_user("operator")
    point = point_of(event, "21046")
    person = add_attendee(event, "21046", "Trần Thị Bình")
    done = checkin.check_in_attendee(point, users["commune_host"], client_id="scan-roster-01",
                                     attendee_id=person.id, now=DURING)
    page = operator.get(f"/c/events/{event.id}/roster?q=binh").get_data(as_text=True)
    assert f'action="/c/checkins/{done.data["checkin_id"]}/undo"' in page
    resp = operator.post(f"/c/checkins/{done.data['checkin_id']}/undo",
                         data={"next": f"/c/events/{event.id}/roster?q=binh"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/c/events/{event.id}/roster?q=binh")
    assert count(AttendeeCheckin) == 0
    # A `next` elsewhere is not followed (never an open redirect).
    again = checkin.check_in_attendee(point, users["commune_host"], client_id="scan-roster-02",
                                      attendee_id=person.id, now=DURING)
    resp = operator.post(f"/c/checkins/{again.data['checkin_id']}/undo", data={"next": "https://evil.example/"})
    assert urlsplit(resp.headers["Location"]).netloc in ("", "localhost")


def test_the_host_page_offers_to_undo_the_point_check_in_only_within_the_window(app, event, as_user, clock):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    host.post(f"/c/{tokens.site_token(point)}")
    assert 'id="undo-site"' in host.get(f"/c/points/{point.id}").get_data(as_text=True)
    resp = host.post(f"/c/points/{point.id}/undo-checkin")
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == f"/c/points/{point.id}"
    assert db.session.get(EventPoint, point.id).checked_in_dt is None
    assert 'data-code="not_checked_in"' in host.get(f"/c/points/{point.id}").get_data(as_text=True)

    host.post(f"/c/{tokens.site_token(point)}")
    clock.shift(timedelta(minutes=10))
    assert 'id="undo-site"' not in host.get(f"/c/points/{point.id}").get_data(as_text=True)
    refused = host.post(f"/c/points/{point.id}/undo-checkin", headers=JSON)
    assert refused.status_code == 409 and refused.get_json()["code"] == "undo_too_late"
    operator_page = as_user("operator").get(f"/c/events/{event.id}").get_data(as_text=True)
    assert f'action="/c/points/{point.id}/undo-checkin"' in operator_page


def test_a_problem_is_resolved_from_the_host_page_and_from_the_wall(app, event, as_user, users):
    host, operator = as_user("commune_host"), as_user("operator")
    point = point_of(event, "21046")
    host.post(f"/c/points/{point.id}/problem", data={"kind": "no_audio"})
    host.post(f"/c/points/{point.id}/problem", data={"kind": "no_video"})
    audio, video = db.session.scalars(select(PointProblem).order_by(PointProblem.id)).all()
    page = host.get(f"/c/points/{point.id}").get_data(as_text=True)
    assert f'action="/c/points/{point.id}/problems/{audio.id}/resolve"' in page
    assert f'action="/c/points/{point.id}/problems/{video.id}/resolve"' in page

    resp = host.post(f"/c/points/{point.id}/problems/{audio.id}/resolve")
    assert resp.status_code == 302
    page = host.get(f"/c/points/{point.id}").get_data(as_text=True)
    assert f"/problems/{audio.id}/resolve" not in page and f"/problems/{video.id}/resolve" in page

    # The operator's wall carries the resolve address; a viewer's and the projector's do not.
    wall_page = operator.get(f"/wall/{event.id}").get_data(as_text=True)
    assert 'data-resolve-url="/c/points/0/problems/0/resolve"' in wall_page
    assert "data-resolve-url" not in as_user("viewer").get(f"/wall/{event.id}").get_data(as_text=True)
    assert "data-resolve-url" not in operator.get(f"/wall/{event.id}/projector").get_data(as_text=True)
    snapshot = operator.get(f"/wall/{event.id}/snapshot.json").get_json()
    [tile] = [t for t in snapshot["tiles"] if t["id"] == point.id]
    assert tile["problem"]["id"] == video.id
    resp = operator.post(f"/c/points/{point.id}/problems/{video.id}/resolve", headers=JSON)
    assert resp.get_json()["code"] == "problem_resolved"
    again = operator.post(f"/c/points/{point.id}/problems/{video.id}/resolve", headers=JSON)
    assert again.status_code == 409 and again.get_json()["code"] == "already_resolved"
    assert as_user("viewer").post(f"/c/points/{point.id}/problems/{video.id}/resolve",
                                  headers=JSON).status_code == 403
    snapshot = operator.get(f"/wall/{event.id}/snapshot.json").get_json()
    assert [t["problem"] for t in snapshot["tiles"] if t["id"] == point.id] == [None]


def test_the_closing_beacon_needs_no_csrf_token_but_the_host_or_the_page_token(app, event, as_user, users):
    point = point_of(event, "21046")
    host, other_host = as_user("commune_host"), as_user("other_host")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production (after signing in: the test logins send no token)
    presence.record_heartbeat(point.id, now=DURING)
    assert host.post(f"/c/points/{point.id}/page-closed").status_code == 204  # sendBeacon: no CSRF header
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).page_closed_dt == DURING
    presence.record_heartbeat(point.id, now=DURING)

    stranger = app.test_client()
    assert stranger.post(f"/c/points/{point.id}/page-closed").status_code == 401
    assert stranger.post(f"/c/points/{point.id}/page-closed", data={"token": "forged"}).status_code == 401
    assert other_host.post(f"/c/points/{point.id}/page-closed").status_code == 403
    cross = host.post(f"/c/points/{point.id}/page-closed", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).page_closed_dt is None

    # The page's presence token alone is enough (issued to the host, bound to their session generation).
    token = presence.presence_token(point, users["commune_host"])
    assert stranger.post(f"/c/points/{point.id}/page-closed", data={"token": token}).status_code == 204
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).page_closed_dt == DURING


def test_unknown_expected_people_show_as_a_dash_never_as_zero(app, event, as_user):
    for p in db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id)):
        p.expected_attendance = 0
    point = point_of(event, "21046")
    point.headcount = 12
    db.session.commit()
    operator = as_user("operator")
    report = operator.get(f"/wall/{event.id}/report").get_data(as_text=True)
    assert "<strong>12/—</strong>" in report and "12/0" not in report
    row = re.search(rf'<tr data-point="{point.id}".*?</tr>', report, re.S).group(0)
    assert '<td class="num">—</td>' in row
    snapshot = operator.get(f"/wall/{event.id}/snapshot.json").get_json()
    assert snapshot["counters"]["attendees_expected"] is None
    add_attendee(event, "21046", "Trần Thị Bình")
    snapshot = operator.get(f"/wall/{event.id}/snapshot.json").get_json()
    assert snapshot["counters"]["attendees_expected"] == 1
    assert [t["expected"] for t in snapshot["tiles"] if t["id"] == point.id] == [1]
