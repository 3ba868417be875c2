"""Scheduled tasks: work due at a time, stored as rows so it survives restarts and runs once
(see `launch.jobs.tasks`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime

#: `running` while claimed by a scheduler; a run interrupted by a crash is recovered after a lease.
TASK_STATUSES = ("pending", "running", "done", "missed", "cancelled", "failed")


class ScheduledTask(db.Model):
    """A piece of work due at a time (reminder, state change, readiness check, absence check, ...).

    The scheduler claims due rows atomically, so a task runs once however many processes look.
    """

    __tablename__ = "scheduled_tasks"
    __table_args__ = (Index("ix_scheduled_tasks_status_due", "status", "due_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
