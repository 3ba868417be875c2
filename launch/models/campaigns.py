"""Follow-up campaigns: teams, campaigns, their metrics, targets and progress reports."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime


class Campaign(db.Model):
    """A follow-up campaign with targets per unit (7 residents in 7 days, the 30-day peak plan, ...)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
