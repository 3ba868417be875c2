"""The demo's history: Quảng Ngãi's launch of 28 July 2023 on the 2023 map, as an ended event with
its attendance (most points on time, some late, a few absent, two problems solved on the day).

The facts are written onto the points the way the day would have left them (the services refuse a
check-in outside its window, rightly); the points keep the units and districts they were invited
with, whatever the directory becomes.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from launch.clock import as_utc
from launch.extensions import db
from launch.models import Activity, Event, EventPoint, PointProblem, Unit, User
from launch.models.units import LEGACY_EDITION
from launch.services.events import create_event

HISTORY_TITLE = "Lễ phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi"
#: 14:00 on 28 July 2023, Quảng Ngãi time (the demo's hour, not a record of the day's).
HISTORY_START = datetime(2023, 7, 28, 14, 0)
HISTORY_MINUTES = 90
AGENDA = (
    (0, "Khai mạc; giới thiệu đại biểu", "Ban tổ chức"),
    (5, "Phát biểu phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi", "Chủ tịch UBND tỉnh"),
    (25, "Ký cam kết thực hiện chuyển đổi số", "Lãnh đạo tỉnh và các huyện, thị xã, thành phố"),
    (40, "Phát biểu hưởng ứng của các huyện, thị xã, thành phố", "Đại diện UBND cấp huyện"),
    (60, "Phát biểu hưởng ứng của các xã, phường, thị trấn", "Đại diện UBND cấp xã"),
    (80, "Bế mạc", "Ban tổ chức"),
)


def seed_history(operator: User | None) -> Event | None:
    """The ended launch of 28 July 2023 (IOC + 186 points on the 2023 map) with its attendance.

    Idempotent; nothing without the 2023 map of Quảng Ngãi.
    """
    existing = db.session.scalar(select(Event).where(Event.title == HISTORY_TITLE).limit(1))
    host = db.session.scalar(select(Unit).where(Unit.edition == LEGACY_EDITION, Unit.level == "province",
                                                Unit.code == "51"))
    if existing is not None or host is None:
        return existing
    start = as_utc(HISTORY_START)
    event = create_event({
        "title": HISTORY_TITLE,
        "description": "Lễ phát động trực tuyến từ Trung tâm Giám sát, điều hành đô thị thông minh (IOC) tỉnh, "
                       "kết nối 13 điểm cầu cấp huyện và 173 điểm cầu cấp xã (bản đồ hành chính năm 2023).",
        "start": start, "end": start + timedelta(minutes=HISTORY_MINUTES), "host_unit_id": host.id,
        "test_window_minutes": 60, "absence_grace_minutes": 10, "reminder_offsets": [1440, 60],
        "meeting_url": "https://meet.example.invalid/quangngai-cds", "meeting_id": "IOC-QNG-2023",
        "agenda": [{"time": start + timedelta(minutes=m), "title": t, "presenter": p} for m, t, p in AGENDA],
        "invite": {"mode": "all"},
    }, actor=operator, now=start - timedelta(days=3))
    _the_day(event, operator, random.Random(20230728))
    event.state, event.state_changed_dt = "ended", event.end_dt
    db.session.commit()
    return event


def _the_day(event: Event, operator: User | None, rng: random.Random) -> None:
    """Check-ins, headcounts, the call and two solved problems, as the day left them."""
    start, end = event.start_dt, event.end_dt
    for point in sorted(event.points, key=lambda p: p.unit.code):
        roll = rng.random()
        point.connection_tested_dt = start - timedelta(hours=20, minutes=rng.randint(0, 180))
        if not point.is_host and roll > 0.96:  # absent: flagged after the grace minutes
            point.absent_dt = start + timedelta(minutes=event.absence_grace_minutes)
            _activity(event, point, "absent", point.absent_dt)
            continue
        late = not point.is_host and roll > 0.88
        at = start + timedelta(minutes=rng.randint(1, 14)) if late else start - timedelta(minutes=rng.randint(5, 45))
        manual = rng.random() < 0.08
        point.checked_in_dt, point.checkin_method = at, "manual" if manual else "qr"
        point.checked_in_by_id = operator.id if manual and operator is not None else None
        point.headcount = 60 if point.is_host else rng.randint(18, 40) if point.unit.level == "district" \
            else rng.randint(7, 25)
        point.call_seconds = int((end - at).total_seconds())
        point.last_seen_dt = end
        _activity(event, point, "site_checkin", at, {"method": point.checkin_method})
        _activity(event, point, "call_joined", at)
        _activity(event, point, "call_left", end)
    troubled = [p for p in event.points if p.checked_in_dt is not None and not p.is_host][3:5]
    for point, kind, text in zip(troubled, ("no_audio", "no_video"), ("Mất tiếng từ IOC", "Hình bị đứng"),
                                 strict=False):
        at = start + timedelta(minutes=rng.randint(3, 30))
        db.session.add(PointProblem(event_point=point, kind=kind, text=text, reported_dt=at,
                                    resolved_dt=at + timedelta(minutes=6)))
        _activity(event, point, "problem", at, {"kind": kind})


def _activity(event: Event, point: EventPoint, kind: str, at: datetime, data: dict | None = None) -> None:
    db.session.add(Activity(event_id=event.id, event_point=point, kind=kind, created_dt=at, data=data))
