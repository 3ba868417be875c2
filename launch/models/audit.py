"""The audit log: who changed what, when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.users import User


class AuditEntry(db.Model):
    """One change or security-relevant refusal, kept forever."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Snapshot of the actor's name ("system" for the scheduler, "anonymous" for a refused scan).
    actor: Mapped[str] = mapped_column(String(80))
    #: Dotted machine name, e.g. `unit.updated`, `directory.imported`, `checkin.refused`.
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column()
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()
