"""Launch events: creation and refusals, lifecycle on time and by hand, readiness, reminders, absence,
moving and cancelling. Time is driven by passing `now`."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from launch.demo import events as demo_events
from launch.extensions import db
from launch.jobs.tasks import run_due_tasks
from launch.models import Activity, AuditEntry, Event, EventPoint, Notification, ScheduledTask, Unit
from launch.models.events import ReadinessCheck
from launch.services import events
from launch.services.errors import DomainError, ValidationFailed
from tests.support.factories import point_of

NOW = datetime(2023, 7, 26, 1, 0, tzinfo=UTC)  # 08:00 on 26 July in Quảng Ngãi
START = datetime(2023, 7, 28, 1, 0, tzinfo=UTC)  # 08:00 on 28 July


def unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def base(**over):
    data = {
        "title": "Lễ phát động Phong trào chuyển đổi số",
        "description": "IOC + 186 điểm cầu",
        "start": "2023-07-28T08:00",  # local time
        "end": "2023-07-28T09:30",
        "meeting_url": "https://meet.example.invalid/qn",
        "meeting_id": "123 456",
        "meeting_passcode": "2807",
        "agenda": "08:00 | Khai mạc | Ban tổ chức\n08:05 | Phát biểu phát động | Chủ tịch UBND tỉnh\n"
                  "08:30 | Ký cam kết\n08:45 | Phát biểu hưởng ứng của các huyện",
    }
    data.update(over)
    return data


@pytest.fixture
def published(users):
    """The 28 July model: all 186 points, scheduled, default offsets."""
    return events.create_event(base(), actor=users["operator"], now=NOW, publish=True)


def codes(exc) -> list[str]:
    return [e.code for e in exc.value.errors]


def tasks(event, kind=None, status=None):
    stmt = select(ScheduledTask).where(ScheduledTask.event_id == event.id)
    if kind:
        stmt = stmt.where(ScheduledTask.kind == kind)
    if status:
        stmt = stmt.where(ScheduledTask.status == status)
    return list(db.session.scalars(stmt.order_by(ScheduledTask.due_dt)))


def test_create_event_like_the_28_july_launch(published):
    event = published
    assert event.state == "scheduled"
    assert event.start_dt == START and event.end_dt == START + timedelta(minutes=90)
    assert event.host_unit.level == "province"
    points = db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id)).all()
    host = [p for p in points if p.is_host]
    invited = [p for p in points if not p.is_host]
    assert len(host) == 1 and host[0].unit.level == "province"
    assert len(invited) == 186
    assert sum(1 for p in invited if p.unit.level == "district") == 13
    assert [a.title for a in event.agenda][:2] == ["Khai mạc", "Phát biểu phát động"]
    assert event.agenda[1].starts_dt == START + timedelta(minutes=5)
    assert event.agenda[1].presenter == "Chủ tịch UBND tỉnh"
    assert event.reminder_offsets == [1440, 60, 15]
    planned = {(t.kind, t.due_dt, str(t.payload)) for t in tasks(event)}
    assert ("event.state", START - timedelta(minutes=60), str({"to": "testing"})) in planned
    assert ("event.state", START, str({"to": "live"})) in planned
    assert ("event.state", START + timedelta(minutes=90), str({"to": "ended"})) in planned
    assert ("event.absence", START + timedelta(minutes=10), "{}") in planned
    assert ("event.readiness", START - timedelta(minutes=15), str({"stage": "t15"})) in planned
    assert {t.payload["offset"] for t in tasks(event, "event.reminder")} == {1440, 60, 15}
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.created")) is not None


def test_attendance_comes_from_directory_and_can_be_adjusted(users):
    db.session.get(Unit, unit_id("524")).expected_attendance = 80
    db.session.commit()
    event = events.create_event(base(invite={"mode": "select", "units": "524 21046"},
                                     attendance={unit_id("21046"): 35}), actor=users["operator"], now=NOW)
    assert event.state == "draft"
    assert point_of(event, "524").expected_attendance == 80
    assert point_of(event, "21046").expected_attendance == 35
    changed = events.update_points(event, {point_of(event, "524").id: {"expected_attendance": "95",
                                                                       "vc_endpoint": "Phòng họp trực tuyến"}})
    assert changed == 2
    assert point_of(event, "524").expected_attendance == 95
    assert point_of(event, "524").vc_endpoint == "Phòng họp trực tuyến"


def test_invite_by_district_level_and_one_by_one(users):
    op = users["operator"]
    by_district = events.create_event(base(invite={"mode": "select", "districts": ["524"]}), actor=op, now=NOW)
    binh_son = db.session.get(Unit, unit_id("524"))
    assert len(events.invited_points(by_district)) == 1 + len(binh_son.children)
    by_level = events.create_event(base(invite={"mode": "select", "levels": ["district"]}), actor=op, now=NOW)
    assert {p.unit.level for p in events.invited_points(by_level)} == {"district"}
    assert len(events.invited_points(by_level)) == 13
    one = events.create_event(base(invite={"mode": "select", "units": [unit_id("21046")]}), actor=op, now=NOW)
    assert [p.unit.code for p in events.invited_points(one)] == ["21046"]


@pytest.mark.parametrize(("over", "code"), [
    ({"end": "2023-07-28T07:00"}, "end_before_start"),
    ({"start": "2023-07-25T08:00", "end": "2023-07-25T09:00"}, "start_in_past"),
    ({"start": "not a date"}, "bad_start"),
    ({"title": "  "}, "title_required"),
    ({"reminder_offsets": "24h, -5"}, "bad_offsets"),
    ({"reminder_offsets": "soon"}, "bad_offsets"),
    ({"reminder_offsets": [0]}, "bad_offsets"),
    ({"meeting_url": "javascript:alert(1)"}, "bad_meeting_url"),
    ({"invite": {"mode": "select", "units": "524 99999"}}, "unknown_point"),
    ({"invite": {"mode": "select"}}, "no_points"),
    ({"agenda": "8h70 | Khai mạc"}, "bad_agenda"),
    ({"test_window_minutes": "-1"}, "bad_test_window"),
    ({"host_unit_id": "999999"}, "unknown_host"),
])
def test_bad_input_is_refused_and_nothing_saved(users, over, code):
    with pytest.raises(ValidationFailed) as exc:
        events.create_event(base(**over), actor=users["operator"], now=NOW, publish=True)
    assert code in codes(exc)
    assert str(exc.value.errors[0])  # a message for people
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask)) == 0


def test_offsets_parse_in_minutes_hours_days():
    assert events.parse_offsets("24h, 1h, 15m") == [1440, 60, 15]
    assert events.parse_offsets("15 60 1d") == [1440, 60, 15]
    assert events.parse_offsets([10, 5, 10]) == [10, 5]
    assert events.parse_offsets("") == []
    assert events.parse_offsets("31d") is None


def test_lifecycle_runs_on_time(published, monkeypatch):
    announced = []
    monkeypatch.setattr("launch.realtime.publisher.announce",
                        lambda event_id, kind, event_point_id=None, data=None: announced.append((kind, data)))
    event = published
    run_due_tasks(START - timedelta(minutes=61))
    assert db.session.get(Event, event.id).state == "scheduled"
    run_due_tasks(START - timedelta(minutes=60))
    db.session.expire_all()
    assert db.session.get(Event, event.id).state == "testing"
    run_due_tasks(START)
    db.session.expire_all()
    assert db.session.get(Event, event.id).state == "live"
    run_due_tasks(START + timedelta(minutes=90))
    db.session.expire_all()
    assert db.session.get(Event, event.id).state == "ended"
    states = [d["state"] for k, d in announced if k == "state"]
    assert states == ["testing", "live", "ended"]
    acts = db.session.scalars(select(Activity).where(Activity.event_id == event.id, Activity.kind == "state")
                              .order_by(Activity.id)).all()
    assert [a.data["to"] for a in acts] == ["scheduled", "testing", "live", "ended"]
    audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.state")).all()
    assert [a.actor for a in audits] == ["op", "system", "system", "system"]
    assert not tasks(event, status="pending")
    assert not tasks(event, status="failed")


def test_late_scheduler_catches_up_in_order(published):
    """Down all morning: the states still follow one another, the late reminders are missed."""
    run_due_tasks(START + timedelta(hours=3))
    db.session.expire_all()
    event = db.session.get(Event, published.id)
    assert event.state == "ended"
    assert {t.status for t in tasks(event, "event.reminder")} == {"missed"}
    assert {t.status for t in tasks(event, "event.state")} == {"done"}


def test_operator_moves_the_event_on_by_hand(published, users):
    event = published
    with pytest.raises(DomainError) as exc:
        events.change_state(event, "ended", actor=users["operator"], now=NOW)
    assert exc.value.code == "bad_transition"
    events.change_state(event, "testing", actor=users["operator"], now=NOW)
    events.change_state(event, "live", actor=users["operator"], now=NOW)
    assert event.state == "live"
    # The on-time tasks no longer move it backwards.
    run_due_tasks(START - timedelta(minutes=60))
    db.session.expire_all()
    assert db.session.get(Event, event.id).state == "live"
    events.change_state(db.session.get(Event, event.id), "ended", actor=users["operator"], now=NOW)
    assert not tasks(event, status="pending")


def test_readiness_verdicts_are_stored_at_the_window_and_t15(published, users):
    event = published
    bt = point_of(event, "21046")  # Xã Bình Thạnh: has a host account (chost) but no phone
    bt.connection_tested_dt = NOW
    bt.qr_issued_dt = NOW
    unit = bt.unit
    unit.host_phone = "0912 000 111"
    db.session.commit()
    run_due_tasks(START - timedelta(minutes=60))
    rows = db.session.scalars(select(ReadinessCheck).where(ReadinessCheck.stage == "test_window")).all()
    assert len(rows) == 186
    mine = next(r for r in rows if r.event_point_id == bt.id)
    assert mine.is_ready and mine.host_assigned and mine.phone_present
    other = next(r for r in rows if r.event_point_id == point_of(event, "21049").id)
    assert not other.is_ready and not other.connection_tested
    # Operators get the list of points not ready.
    notice = db.session.scalar(select(Notification).where(Notification.user_id == users["operator"].id,
                                                          Notification.channel_kind == "inapp"))
    assert notice is not None and "185" in notice.subject
    # Live on the event page at any time.
    live = events.readiness(event)
    assert sum(1 for v in live if v.ready) == 1
    run_due_tasks(START - timedelta(minutes=15))
    assert db.session.scalar(select(func.count()).select_from(ReadinessCheck)
                             .where(ReadinessCheck.stage == "t15")) == 186


def test_readiness_notices_say_what_is_missing_not_what_is_done(published, users):
    """"Còn thiếu: Đã có người phụ trách" read as if the point had a host: the lists now name what is to do."""
    bt = point_of(published, "21046")  # a host account, no phone, no test, no QR
    run_due_tasks(START - timedelta(minutes=60))
    notice = db.session.scalar(select(Notification).where(Notification.user_id == users["operator"].id,
                                                          Notification.channel_kind == "inapp"))
    line = next(x for x in notice.body.splitlines() if x.startswith(f"- {bt.unit.name}:"))
    assert line == (f"- {bt.unit.name}: chưa có số điện thoại liên hệ, chưa xác nhận kiểm tra kết nối, "
                    "chưa in phiếu QR")
    assert "Đã có người phụ trách" not in notice.body and "Còn phải làm:" in notice.body
    run_due_tasks(START - timedelta(minutes=15))  # the reminder to the hosts too
    reminder = db.session.scalar(select(Notification).where(
        Notification.user_id == users["commune_host"].id, Notification.channel_kind == "inapp",
        Notification.subject.contains("15")))
    assert f"- {bt.unit.name}: chưa có số điện thoại liên hệ, chưa xác nhận" in reminder.body


def test_a_short_test_window_takes_no_separate_t15_check(users):
    """A connection test opening 10 minutes before the start: its check at the opening is the last one;
    no T-15 check is planned, and the readiness page says why instead of "not taken yet" for ever."""
    event = events.create_event(base(test_window_minutes="10"), actor=users["operator"], now=NOW, publish=True)
    stages = [t.payload["stage"] for t in tasks(event, "event.readiness")]
    assert stages == ["test_window"] and events.readiness_stages(event) == {
        "test_window": START - timedelta(minutes=10)}
    assert "10 phút" in events.stage_notes(event)["t15"]
    none = events.create_event(base(test_window_minutes="0", title="Không kiểm tra"), actor=users["operator"],
                               now=NOW, publish=True)
    assert [t.payload["stage"] for t in tasks(none, "event.readiness")] == ["t15"]
    assert set(events.stage_notes(none)) == {"test_window"}


def test_reminders_go_to_the_hosts_once_at_each_offset(published, users):
    event = published
    run_due_tasks(START - timedelta(hours=24))
    got = db.session.scalars(select(Notification).where(Notification.channel_kind == "inapp",
                                                        Notification.event_id == event.id)).all()
    by_user = {n.user_id: n for n in got}
    # Hosts of Bình Sơn (district: its communes too), of Bình Thạnh, and of Quảng Ngãi city.
    assert set(by_user) == {users["district_host"].id, users["commune_host"].id, users["other_host"].id}
    district_notice = by_user[users["district_host"].id]
    assert "Xã Bình Thạnh" in district_notice.body and "Huyện Bình Sơn" in district_notice.body
    assert "https://meet.example.invalid/qn" in district_notice.body
    assert "Xã Bình Thạnh" in by_user[users["commune_host"].id].body
    assert "Huyện Bình Sơn" not in by_user[users["commune_host"].id].body
    # Running again does not send again.
    run_due_tasks(START - timedelta(hours=24))
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.event_id == event.id)) == 3
    run_due_tasks(START - timedelta(minutes=60))
    run_due_tasks(START - timedelta(minutes=15))
    reminders = tasks(event, "event.reminder")
    assert [t.status for t in reminders] == ["done", "done", "done"]
    count = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == users["commune_host"].id, Notification.task_id.in_([t.id for t in reminders])))
    assert count == 3


def test_absent_points_are_flagged_at_start_plus_grace(published, users, monkeypatch):
    announced = []
    monkeypatch.setattr("launch.realtime.publisher.announce",
                        lambda event_id, kind, event_point_id=None, data=None: announced.append((kind, event_point_id)))
    event = published
    here = point_of(event, "524")
    here.checked_in_dt = START - timedelta(minutes=5)
    db.session.commit()
    run_due_tasks(START + timedelta(minutes=9))
    assert point_of(event, "21046").absent_dt is None
    run_due_tasks(START + timedelta(minutes=10))
    db.session.expire_all()
    assert point_of(event, "21046").absent_dt == START + timedelta(minutes=10)
    assert point_of(event, "524").absent_dt is None
    host_point = db.session.scalar(select(EventPoint).where(EventPoint.event_id == event.id, EventPoint.is_host))
    assert host_point.absent_dt is None
    absent_acts = db.session.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "absent"))
    assert absent_acts == 185
    assert sum(1 for k, _ in announced if k == "absent") == 185
    notice = db.session.scalar(select(Notification).where(Notification.user_id == users["operator"].id,
                                                          Notification.subject.contains("185")))
    assert notice is not None


def test_moving_an_event_moves_its_pending_tasks_and_tells_hosts(published, users):
    event = published
    run_due_tasks(START - timedelta(hours=24))  # the 24 h reminder went out
    later = START + timedelta(days=1)
    events.update_event(event, {"start": "2023-07-29T08:00", "end": "2023-07-29T09:30"}, actor=users["operator"],
                        now=START - timedelta(hours=23))
    pending = tasks(event, status="pending")
    live = next(t for t in pending if t.kind == "event.state" and t.payload == {"to": "live"})
    assert live.due_dt == later
    assert {t.payload["offset"] for t in pending if t.kind == "event.reminder"} == {1440, 60, 15}
    assert all(t.due_dt == later - timedelta(minutes=t.payload["offset"]) for t in pending
               if t.kind == "event.reminder")
    moved = db.session.scalar(select(Notification).where(Notification.user_id == users["commune_host"].id,
                                                         Notification.subject.contains("29/07") |
                                                         Notification.body.contains("29/07/2023")))
    assert moved is not None
    # Nothing fires at the old time.
    run_due_tasks(START)
    db.session.expire_all()
    assert db.session.get(Event, event.id).state == "scheduled"


def test_cancelling_cancels_tasks_and_tells_hosts(published, users, monkeypatch):
    announced = []
    monkeypatch.setattr("launch.realtime.publisher.announce",
                        lambda event_id, kind, event_point_id=None, data=None: announced.append((kind, data)))
    event = published
    events.cancel_event(event, actor=users["operator"], reason="Mưa bão", now=NOW)
    assert event.state == "cancelled"
    assert not tasks(event, status="pending")
    assert {t.status for t in tasks(event)} == {"cancelled"}
    told = db.session.scalars(select(Notification).where(Notification.event_id == event.id,
                                                         Notification.channel_kind == "inapp")).all()
    assert {n.user_id for n in told} == {users["district_host"].id, users["commune_host"].id,
                                         users["other_host"].id}
    assert all("Mưa bão" in n.body for n in told)
    assert announced == [("state", announced[0][1])] and announced[0][1]["state"] == "cancelled"
    run_due_tasks(START + timedelta(hours=3))
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.event_id == event.id)) == 3
    with pytest.raises(DomainError):
        events.update_event(event, {"title": "x"}, actor=users["operator"], now=NOW)


def test_host_sees_only_events_inviting_their_points(published, users):
    op = users["operator"]
    other = events.create_event(base(invite={"mode": "select", "units": "522"}), actor=op, now=NOW, publish=True)
    draft = events.create_event(base(), actor=op, now=NOW)
    seen = db.session.scalars(events.visible_events_query(users["commune_host"])).all()
    assert published in seen and other not in seen and draft not in seen
    assert draft in db.session.scalars(events.visible_events_query(users["viewer"])).all()
    assert events.can_view(users["other_host"], other)
    assert not events.can_view(users["commune_host"], other)
    assert [p.unit.code for p in events.user_points(users["commune_host"], published)] == ["21046"]


def test_calendar_groups_events_by_local_day(published, users):
    weeks = events.calendar_month(users["viewer"], 2023, 7)
    days = {d["day"].isoformat(): d["events"] for w in weeks for d in w}
    assert days["2023-07-28"] == [published]
    assert days["2023-07-27"] == []


def test_seed_demo_is_idempotent_and_soon(users):
    first = demo_events.seed_demo(users["operator"])
    second = demo_events.seed_demo(users["operator"])
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1
    assert first.state == "scheduled" and len(events.invited_points(first)) == 186
    assert first.reminder_offsets == [10, 5] and first.test_window_minutes == 10
    assert len(first.agenda) >= 4
    due = sorted(t.due_dt for t in tasks(first))
    assert due[0] - first.created_dt < timedelta(minutes=5)
