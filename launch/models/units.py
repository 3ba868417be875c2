"""Administrative units: the province (its IOC), districts and communes; each is a connection point."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime

LEVELS = ("province", "district", "commune")
#: Which level may sit under which.
PARENT_LEVEL = {"province": None, "district": "province", "commune": "district"}
DIVISION_TYPES = ("tỉnh", "thành phố", "thị xã", "huyện", "phường", "xã", "thị trấn")


class Unit(db.Model):
    """A unit of the directory and the connection point (điểm cầu) it runs."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: General Statistics Office code, the natural key used by imports.
    code: Mapped[str] = mapped_column(String(16), unique=True)
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

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.name}>"
