"""A demo roster: 20 people at each of two points (Huyện Bình Sơn (524) and Xã Bình Thạnh (21046) on
the 2023 map; Xã Bình Sơn (21040) and Xã Tịnh Khê (21211) on today's)."""
from __future__ import annotations

from sqlalchemy import select

from launch.extensions import db
from launch.models import Attendee, Event, EventPoint, Unit
from launch.services.roster import new_badge_code
from launch.services.text import fold

DEMO_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ")
DEMO_GIVEN = ("Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thị Hà", "Văn Hùng", "Thanh Lan", "Đức Long",
              "Thị Mai", "Công Nam", "Ngọc Oanh", "Văn Phúc", "Thị Quỳnh", "Hữu Sơn", "Thị Thu", "Văn Tùng",
              "Thị Uyên", "Quang Vinh", "Thị Xuân", "Minh Yến")
DEMO_POSITIONS = ("Chủ tịch UBND", "Phó Chủ tịch UBND", "Công chức Văn phòng - Thống kê", "Bí thư Đoàn thanh niên",
                  "Chủ tịch Hội Phụ nữ", "Trưởng thôn", "Tổ công nghệ số cộng đồng", "Công chức Văn hóa - Xã hội")


#: The demo roster's points on each map.
ROSTER_CODES = {"2023": ("524", "21046"), "2025": ("21040", "21211")}


def codes_for(event: Event) -> tuple[str, ...]:
    """The demo roster's unit codes on the event's map."""
    return ROSTER_CODES.get(event.edition or "2023", ROSTER_CODES["2023"])


def seed_demo_checkins(event: Event, codes: tuple[str, ...] = ROSTER_CODES["2023"]) -> int:
    """Add a demo roster (20 people at each unit of `codes`, by default Huyện Bình Sơn (524) and Xã
    Bình Thạnh (21046)); idempotent.

    Only units invited to `event` get people. Returns how many were added.
    """
    added = 0
    for offset, code in enumerate(codes):
        unit_id = db.session.scalar(
            select(Unit.id).join(EventPoint, EventPoint.unit_id == Unit.id)
            .where(EventPoint.event_id == event.id, Unit.code == code)
        )
        if unit_id is None:
            continue
        have = set(db.session.scalars(select(Attendee.search_name).where(Attendee.event_id == event.id,
                                                                         Attendee.unit_id == unit_id)))
        for i in range(20):
            family = DEMO_FAMILY[(i + offset * 3) % len(DEMO_FAMILY)]
            name = f"{family} {DEMO_GIVEN[(i + offset * 7) % len(DEMO_GIVEN)]}"
            if fold(name) in have:
                continue
            have.add(fold(name))
            db.session.add(Attendee(event_id=event.id, unit_id=unit_id, full_name=name, search_name=fold(name),
                                    position=DEMO_POSITIONS[i % len(DEMO_POSITIONS)], badge_code=new_badge_code()))
            added += 1
    db.session.commit()
    return added
