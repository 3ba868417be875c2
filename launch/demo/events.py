"""The demo launch: modelled on Quảng Ngãi's digital-transformation launch of 28 July 2023."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, User
from launch.services.events import create_event, province_unit

DEMO_TITLE = "Lễ phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi"


def seed_demo(operator: User | None) -> Event | None:
    """The demo launch, modelled on 28 July 2023, starting 12 minutes from now (reminders within minutes).

    Idempotent: once the demo event exists, nothing is added.
    """
    existing = db.session.scalar(select(Event).where(Event.title == DEMO_TITLE).limit(1))
    if existing is not None or province_unit() is None:
        return existing
    now = utcnow().replace(second=0, microsecond=0)
    start = now + timedelta(minutes=12)
    agenda = [
        (0, "Khai mạc; giới thiệu đại biểu", "Ban tổ chức"),
        (5, "Phát biểu phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi", "Chủ tịch UBND tỉnh"),
        (25, "Ký cam kết thực hiện chuyển đổi số", "Lãnh đạo tỉnh và các huyện, thị xã, thành phố"),
        (40, "Phát biểu hưởng ứng của các huyện, thị xã, thành phố", "Đại diện UBND cấp huyện"),
        (60, "Phát biểu hưởng ứng của các xã, phường, thị trấn", "Đại diện UBND cấp xã"),
        (80, "Bế mạc", "Ban tổ chức"),
    ]
    return create_event({
        "title": DEMO_TITLE,
        "description": "Lễ phát động trực tuyến từ Trung tâm Giám sát, điều hành đô thị thông minh (IOC) tỉnh, "
                       "kết nối 13 điểm cầu cấp huyện và 173 điểm cầu cấp xã (theo mô hình ngày 28/7/2023).",
        "start": start,
        "end": start + timedelta(minutes=90),
        "test_window_minutes": 10,
        "absence_grace_minutes": 10,
        "reminder_offsets": [10, 5],
        "meeting_url": "https://meet.example.invalid/quangngai-cds",
        "meeting_id": "IOC-QNG-2023",
        "meeting_passcode": "280723",
        "agenda": [{"time": start + timedelta(minutes=m), "title": t, "presenter": p} for m, t, p in agenda],
        "invite": {"mode": "all"},
    }, actor=operator, now=now, publish=True)
