"""The demo's upcoming launch, on the newest map loaded (today's Quảng Ngãi: the IOC and its 96
communes, once `flask demo load` has loaded it; the 2023 map otherwise)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, Unit, User
from launch.services.events import create_event, province_unit

DEMO_TITLE = "Hội nghị trực tuyến triển khai chuyển đổi số tỉnh Quảng Ngãi"


def seed_demo(operator: User | None) -> Event | None:
    """The upcoming launch, starting 12 minutes from now (reminders within minutes), inviting every
    point of the newest map's province. Idempotent: once it exists, nothing is added."""
    existing = db.session.scalar(select(Event).where(Event.title == DEMO_TITLE).limit(1))
    # Quảng Ngãi on the newest map loaded (today's after `flask demo load`), else the default host.
    host = db.session.scalar(select(Unit).where(Unit.level == "province", Unit.code == "51")
                             .order_by(Unit.edition.desc()).limit(1)) or province_unit()
    if existing is not None or host is None:
        return existing
    now = utcnow().replace(second=0, microsecond=0)
    start = now + timedelta(minutes=12)
    agenda = [
        (0, "Khai mạc; giới thiệu đại biểu", "Ban tổ chức"),
        (5, "Quán triệt nhiệm vụ chuyển đổi số sau sắp xếp đơn vị hành chính", "Chủ tịch UBND tỉnh"),
        (25, "Triển khai Tổ công nghệ số cộng đồng ở các xã, phường, đặc khu", "Sở Khoa học và Công nghệ"),
        (50, "Ý kiến của các xã, phường, đặc khu", "Đại diện UBND cấp xã"),
        (80, "Bế mạc", "Ban tổ chức"),
    ]
    return create_event({
        "title": DEMO_TITLE,
        "description": f"Hội nghị trực tuyến từ Trung tâm Giám sát, điều hành đô thị thông minh (IOC) tỉnh, "
                       f"kết nối các điểm cầu của {host.name} (bản đồ hành chính {host.edition}).",
        "start": start,
        "end": start + timedelta(minutes=90),
        "host_unit_id": host.id,
        "test_window_minutes": 10,
        "absence_grace_minutes": 10,
        "reminder_offsets": [10, 5],
        "meeting_url": "https://meet.example.invalid/quangngai-cds",
        "meeting_id": "IOC-QNG-2025",
        "meeting_passcode": "010725",
        "agenda": [{"time": start + timedelta(minutes=m), "title": t, "presenter": p} for m, t, p in agenda],
        "invite": {"mode": "all"},
    }, actor=operator, now=now, publish=True)
