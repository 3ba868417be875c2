"""Community digital-technology teams (Tổ công nghệ số cộng đồng): the people a campaign's targets count."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.units import Unit

#: Team levels: a district team sits on the district, commune and village teams on their commune.
TEAM_LEVELS = ("district", "commune", "village")


class Team(db.Model):
    """A community digital-technology team (Tổ công nghệ số cộng đồng, Tổ CNSCĐ).

    District teams belong to their district; commune and village teams to their commune (villages
    are not in the directory, so a village team is named, e.g. "Tổ CNSCĐ thôn An Phú").
    """

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("unit_id", "level", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    members: Mapped[int] = mapped_column(Integer, default=0)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
