"""Issue 15, phase B: the operator's day is safe and clear (what asks first, what leaves the lists)."""
from __future__ import annotations

from datetime import timedelta

from launch.clock import utcnow
from launch.extensions import db
from launch.services import events
from tests.support.checkin import add_attendee
from tests.support.factories import make_event


def test_an_event_ended_early_leaves_the_upcoming_events(as_user, users):
    start = utcnow() + timedelta(minutes=5)
    event = events.create_event({"title": "Lễ phát động sớm", "start": start, "end": start + timedelta(hours=2),
                                 "invite": {"mode": "all"}}, actor=users["operator"], publish=True)
    op = as_user("operator")
    assert event.title in op.get("/").get_data(as_text=True)
    for to in ("live", "ended"):
        assert op.post(f"/events/{event.id}/state", data={"to": to}).status_code == 302
    db.session.expire_all()
    assert event.state == "ended" and event.end_dt > utcnow()  # ended before its planned end
    assert event.title not in op.get("/").get_data(as_text=True)
    assert event.title not in op.get("/events/?when=upcoming").get_data(as_text=True)
    assert event.title in op.get("/events/?when=past").get_data(as_text=True)
    assert event not in events.upcoming_for(users["commune_host"])


def test_a_new_badge_asks_first_because_the_printed_one_stops_working(as_user):
    event = make_event(unit_codes=["21046"])
    add_attendee(event, "21046", name="Trần Thị Bình")
    html = as_user("operator").get(f"/c/events/{event.id}/roster").get_data(as_text=True)
    form = html[html.index("reissue-badge"):]
    form = form[:form.index(">")]
    assert 'data-confirm="Cấp thẻ mới cho Trần Thị Bình? Thẻ đã in trước đó' in form


def test_the_readiness_page_says_why_a_stage_is_not_taken(as_user, users):
    start = utcnow() + timedelta(days=1)
    event = events.create_event({"title": "Kiểm tra ngắn", "start": start, "end": start + timedelta(hours=1),
                                 "test_window_minutes": 10, "invite": {"mode": "all"}},
                                actor=users["operator"], publish=True)
    html = as_user("viewer").get(f"/events/{event.id}/readiness").get_data(as_text=True)
    t15 = html[html.index('data-stage="t15"'):]
    assert "Không thực hiện riêng: kiểm tra kết nối bắt đầu 10 phút trước giờ khai mạc" in t15
    window = html[html.index('data-stage="test_window"'):html.index('data-stage="t15"')]
    assert "data-not-planned" not in window


def test_task_notes_are_sentences_in_the_readers_language(as_user, users):
    """The event page's task notes were English ("event cancelled", "its time passed when the event was
    moved"): they are stored as codes and said in the reader's language, the technical part apart."""
    from sqlalchemy import select

    from launch.models import ScheduledTask
    from launch.services.scheduling import task_note

    start = utcnow() + timedelta(days=1)
    event = events.create_event({"title": "Lễ bị hủy", "start": start, "end": start + timedelta(hours=1),
                                 "invite": {"mode": "all"}}, actor=users["operator"], publish=True)
    events.cancel_event(event, actor=users["operator"], reason="Bão")
    failed = db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id)).first()
    failed.status, failed.last_error = "failed", task_note("failed", "ValueError('boom')")
    db.session.commit()
    html = as_user("operator").get(f"/events/{event.id}").get_data(as_text=True)
    assert "Không thực hiện: sự kiện đang ở trạng thái Đã hủy." in html
    assert "Tác vụ bị lỗi; chi tiết kỹ thuật ở bên dưới.<br><small><code>ValueError(&#39;boom&#39;)</code>" in html
    assert "event cancelled" not in html and "event_state" not in html
