"""Events and notices pages: roles, create (and refusals), state moves, points, channels, the log."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from launch.clock import parse_local_dt, to_local, utcnow
from launch.extensions import db
from launch.models import Event, EventPoint, Notification, NotificationChannel, ScheduledTask
from launch.services import events, notifications


def local(dt) -> str:
    return to_local(dt).strftime("%Y-%m-%dT%H:%M")


def form(**over):
    start = utcnow() + timedelta(days=2)
    data = {"title": "Lễ phát động CĐS", "start": local(start), "end": local(start + timedelta(minutes=90)),
            "test_window_minutes": "60", "absence_grace_minutes": "10", "reminder_offsets": "24h, 1h, 15m",
            "meeting_url": "https://meet.example.invalid/x", "agenda": "08:00 | Khai mạc\n08:05 | Phát động",
            "invite_mode": "all", "publish": "1"}
    data.update(over)
    return data


@pytest.fixture
def scheduled(users):
    start = utcnow() + timedelta(days=2)
    return events.create_event({"title": "Lễ phát động", "start": start, "end": start + timedelta(hours=1),
                                "invite": {"mode": "all"}}, actor=users["operator"], publish=True)


def test_operator_creates_an_event_through_the_form(as_user):
    c = as_user("operator")
    assert c.get("/events/new").status_code == 200
    resp = c.post("/events/new", data=form())
    assert resp.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.state == "scheduled" and len(events.invited_points(event)) == 186
    assert c.get(resp.headers["Location"]).status_code == 200


def test_form_selection_by_district_and_codes(as_user):
    c = as_user("operator")
    resp = c.post("/events/new", data=form(invite_mode="select", invite_districts="524", invite_units="522",
                                           publish="0"))
    assert resp.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.state == "draft"
    codes = {p.unit.code for p in events.invited_points(event)}
    assert "524" in codes and "21046" in codes and "522" in codes and "525" not in codes


@pytest.mark.parametrize(("over", "code"), [
    ({"end": "2000-01-01T00:00"}, "end_before_start"),
    ({"start": "2001-01-01T08:00", "end": "2001-01-01T09:00"}, "start_in_past"),
    ({"reminder_offsets": "soon"}, "bad_offsets"),
    ({"invite_mode": "select", "invite_units": "77777"}, "unknown_point"),
    ({"meeting_url": "meet.example"}, "bad_meeting_url"),
])
def test_form_refuses_bad_input_with_a_message(as_user, over, code):
    c = as_user("operator")
    c.get("/lang/en")
    resp = c.post("/events/new", data=form(**over))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert f'data-code="{code}"' in html and "The event was not saved." in html
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_roles_on_event_pages(as_user, scheduled, users):
    eid = scheduled.id
    for role in ("operator", "viewer", "district_host", "commune_host", "other_host"):
        c = as_user(role)
        assert c.get("/events/").status_code == 200
        assert c.get("/events/calendar").status_code == 200
        assert c.get(f"/events/{eid}").status_code == 200, role
        assert c.get(f"/events/{eid}/points").status_code == 200
        assert c.get(f"/events/{eid}/readiness").status_code == 200
    for role in ("viewer", "district_host"):
        c = as_user(role)
        assert c.get("/events/new").status_code == 403
        assert c.post(f"/events/{eid}/state", data={"to": "testing"}).status_code == 403
        assert c.get(f"/events/{eid}/edit").status_code == 403
        assert c.get("/notices/log").status_code == (200 if role == "viewer" else 403)  # viewers read it
        assert c.get("/notices/channels").status_code == 403
    draft = events.create_event({"title": "Nháp", "start": utcnow() + timedelta(days=3),
                                 "end": utcnow() + timedelta(days=3, hours=1),
                                 "invite": {"mode": "select", "units": "522"}}, actor=users["operator"])
    assert as_user("other_host").get(f"/events/{draft.id}").status_code == 403  # a draft is not shown to hosts
    assert as_user("viewer").get(f"/events/{draft.id}").status_code == 200
    assert as_user("operator").get("/events/999999").status_code == 404


def test_host_sees_their_points_and_what_is_expected(as_user, scheduled):
    c = as_user("commune_host")
    c.get("/lang/en")
    html = c.get(f"/events/{scheduled.id}").get_data(as_text=True)
    assert "Xã Bình Thạnh" in html and "Huyện Bình Sơn" not in html
    assert "Connection test confirmed" in html and "QR sheet printed" in html
    home = c.get("/").get_data(as_text=True)
    assert scheduled.title in home and 'id="home-events"' in home
    data = c.get(f"/events/{scheduled.id}/readiness.json").get_json()
    assert data["total"] == 1 and data["not_ready"][0]["code"] == "21046"


def test_event_page_shows_task_statuses_in_the_users_language(as_user, scheduled):
    html = as_user("operator").get(f"/events/{scheduled.id}").get_data(as_text=True)
    assert 'data-status="pending"' in html and ">Đang chờ</span>" in html and ">pending</span>" not in html


def test_event_list_shows_state_badges(as_user, scheduled):
    html = as_user("viewer").get("/events/").get_data(as_text=True)
    assert 'class="badge state-scheduled"' in html and scheduled.title in html
    html = as_user("viewer").get(f"/events/calendar?month={to_local(scheduled.start_dt):%Y-%m}").get_data(
        as_text=True)
    assert f'data-day="{to_local(scheduled.start_dt).date().isoformat()}"' in html and scheduled.title in html


def test_operator_moves_state_by_hand_and_cancels(as_user, scheduled):
    c = as_user("operator")
    assert c.post(f"/events/{scheduled.id}/state", data={"to": "testing"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, scheduled.id).state == "testing"
    resp = c.post(f"/events/{scheduled.id}/state", data={"to": "ended"})
    assert resp.status_code == 409
    c.post(f"/events/{scheduled.id}/state", data={"to": "cancelled", "reason": "Bão"})
    db.session.expire_all()
    assert db.session.get(Event, scheduled.id).state == "cancelled"
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask).where(
        ScheduledTask.event_id == scheduled.id, ScheduledTask.status == "pending")) == 0


def test_edit_moves_the_event(as_user, scheduled):
    c = as_user("operator")
    assert c.get(f"/events/{scheduled.id}/edit").status_code == 200
    new_start = scheduled.start_dt + timedelta(days=1)
    resp = c.post(f"/events/{scheduled.id}/edit", data={
        "title": scheduled.title, "start": local(new_start), "end": local(new_start + timedelta(hours=1)),
        "test_window_minutes": "60", "absence_grace_minutes": "10", "reminder_offsets": "24h, 1h, 15m",
        "invite_mode": "keep", "agenda": ""})
    assert resp.status_code == 302
    due = parse_local_dt(local(new_start))
    live = db.session.scalar(select(ScheduledTask).where(ScheduledTask.event_id == scheduled.id,
                                                         ScheduledTask.kind == "event.state",
                                                         ScheduledTask.status == "pending",
                                                         ScheduledTask.due_dt == due))
    assert live is not None and live.payload == {"to": "live"}


def test_points_page_adjusts_attendance_and_endpoint(as_user, scheduled):
    point = db.session.scalar(select(EventPoint).where(EventPoint.event_id == scheduled.id,
                                                       EventPoint.is_host.is_(False)))
    c = as_user("operator")
    resp = c.post(f"/events/{scheduled.id}/points", data={f"expected_attendance-{point.id}": "42",
                                                          f"vc_endpoint-{point.id}": "Phòng 2"})
    assert resp.status_code == 302
    db.session.refresh(point)
    assert point.expected_attendance == 42 and point.vc_endpoint == "Phòng 2"
    resp = c.post(f"/events/{scheduled.id}/points", data={f"expected_attendance-{point.id}": "-3"})
    assert resp.status_code == 400
    assert as_user("district_host").post(f"/events/{scheduled.id}/points", data={}).status_code == 403


def test_channels_crud_and_refusal(as_user):
    c = as_user("operator")
    c.get("/lang/en")
    resp = c.post("/notices/channels", data={"kind": "webhook", "name": "SMS", "url": "not-a-url"})
    assert resp.status_code == 400 and "webhook URL" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(NotificationChannel)) == 0
    resp = c.post("/notices/channels", data={"kind": "webhook", "name": "SMS", "url": "https://gw.example/hook",
                                             "secret": "abc", "is_enabled": "1"})
    assert resp.status_code == 302
    channel = db.session.scalar(select(NotificationChannel))
    assert channel.config["secret"] == "abc"
    page = c.get("/notices/channels").get_data(as_text=True)
    assert "https://gw.example/hook" in page and "abc" not in page  # the secret is never shown
    c.post(f"/notices/channels/{channel.id}", data={"name": "SMS 2", "url": "https://gw.example/hook2",
                                                     "secret": "", "is_enabled": "1"})
    db.session.expire_all()
    channel = db.session.get(NotificationChannel, channel.id)
    assert channel.name == "SMS 2" and channel.config["secret"] == "abc"  # blank keeps it
    c.post(f"/notices/channels/{channel.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(NotificationChannel)) == 0


def test_log_highlights_failed_and_retries(as_user, users):
    notifications.create_channel("webhook", "Gateway", {"url": "http://127.0.0.1:9/down"})
    rows = notifications.send_notice([users["commune_host"]], "Nhắc", "B")
    db.session.commit()
    hook = next(r for r in rows if r.channel_kind == "webhook")
    hook.status, hook.attempts, hook.last_error = "failed", 3, "HTTP 500"
    db.session.commit()
    c = as_user("operator")
    html = c.get("/notices/log?status=failed").get_data(as_text=True)
    assert f'data-notice-id="{hook.id}" data-status="failed" class="flash-error"' in html and "HTTP 500" in html
    # the status reads in the user's language, not as the stored word
    assert ">Thất bại</span>" in html and ">failed</span>" not in html
    c.get("/lang/en")
    assert ">Failed</span>" in c.get("/notices/log?status=failed").get_data(as_text=True)
    assert c.post(f"/notices/log/{hook.id}/retry").status_code == 302
    db.session.refresh(hook)
    assert hook.status == "pending" and hook.attempts == 0


def test_inbox_and_mark_read(as_user, users):
    notifications.send_notice([users["commune_host"]], "Nhắc lịch lễ phát động", "Nội dung")
    db.session.commit()
    c = as_user("commune_host")
    html = c.get("/notices/").get_data(as_text=True)
    assert "Nhắc lịch lễ phát động" in html and 'data-read="0"' in html
    c.post("/notices/read")
    assert notifications.unread_count(users["commune_host"]) == 0
    # Nobody else sees it.
    assert "Nhắc lịch lễ phát động" not in as_user("other_host").get("/notices/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
