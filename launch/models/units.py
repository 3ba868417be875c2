"""Administrative units, in directory editions (maps); each unit is also a connection point.

Vietnam has had two maps: the three-level one (province -> district -> commune) until 30 June
2025, and the two-level one (province -> commune) since 1 July 2025. Both live in one database as
*editions* (`Edition.code`, e.g. "2023" and "2025"), so Quảng Ngãi 2023 (`51`, 13 districts) and
Quảng Ngãi 2025 (`51`, merged with Kon Tum, 96 communes) coexist, and an event keeps the map it was
held on. The hierarchy comes from the data: a unit's parent is the level above it in its map, the
district level optional. A national launch hangs the provinces under one `country` unit (the
national IOC), which exists only in the editions loaded whole.

Codes are General Statistics Office codes, stored as strings of their level's width (province 2,
district 3, commune 5 digits): `01`, `001` and `00001` are three different units, so a unit is
identified by (edition, level, code), never by its code alone.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime

#: Levels from the top. `country` is the national root of a national launch (the national IOC).
LEVELS = ("country", "province", "district", "commune")
#: Which levels a unit's parent may have (the first is preferred when a code fits several).
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    "country": (),
    "province": ("country",),
    "district": ("province",),
    "commune": ("district", "province"),
}
#: Width of a level's GSO code; a shorter code (a spreadsheet dropped its zeros) is padded.
CODE_WIDTHS = {"province": 2, "district": 3, "commune": 5}
#: The code of the national root unit (it has no GSO code).
COUNTRY_CODE = "VN"
#: Every real division type, by level. "thành phố" alone is a city under a province (district
#: level); the five (six since 2025) centrally-run cities are "thành phố trung ương".
DIVISION_TYPES_BY_LEVEL: dict[str, tuple[str, ...]] = {
    "country": ("quốc gia",),
    "province": ("tỉnh", "thành phố trung ương"),
    "district": ("quận", "huyện", "thị xã", "thành phố"),
    "commune": ("xã", "phường", "thị trấn", "đặc khu"),
}
DIVISION_TYPES = tuple(t for types in DIVISION_TYPES_BY_LEVEL.values() for t in types)
#: The edition of rows written before editions existed, and of CSV imports that name none.
LEGACY_EDITION = "2023"


def normalize_code(code: str, level: str) -> str:
    """`code` at its level's width (`1` -> `01`, `001` or `00001`); other codes unchanged."""
    code = (code or "").strip()
    width = CODE_WIDTHS.get(level)
    if width and code.isdigit() and len(code) < width:
        return code.zfill(width)
    return code


class Edition(db.Model):
    """A directory edition: one administrative map (the 2023 three-level one, today's two-level one)."""

    __tablename__ = "editions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Where the data comes from (package and version, or the imported file).
    source: Mapped[str | None] = mapped_column(String(300))
    #: The date of the data (the statistics office's list), as YYYY-MM-DD.
    data_date: Mapped[str | None] = mapped_column(String(10))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Edition {self.code}>"


class Unit(db.Model):
    """A unit of one directory edition and the connection point (điểm cầu) it runs."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("edition", "level", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition: Mapped[str] = mapped_column(ForeignKey("editions.code"), index=True)
    #: General Statistics Office code at its level's width (`COUNTRY_CODE` for the national root).
    code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: `name` folded (no diacritics, lower case) for searching.
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    division_type: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: Connection-point details operators need on the day.
    host_name: Mapped[str | None] = mapped_column(String(200))
    host_phone: Mapped[str | None] = mapped_column(String(40))
    host_email: Mapped[str | None] = mapped_column(String(200))
    vc_endpoint: Mapped[str | None] = mapped_column(String(300))
    expected_attendance: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")

    @property
    def is_province(self) -> bool:
        return self.level == "province"

    @property
    def ref(self) -> str:
        """The unit's unambiguous reference across editions: `2025:51`."""
        return f"{self.edition}:{self.code}"

    def __repr__(self) -> str:
        return f"<Unit {self.edition}:{self.code} {self.name}>"
