"""Invitations: one-time, expiring links with which a person sets their own password.

An operator's bulk onboarding gives each point host one (printed with a QR, like the point QR
sheet); a password reset gives one too. Only the SHA-256 of the link's secret is stored: the
secret is printed once and never kept.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.users import User

#: Why a link was issued: a new account (onboarding) or a password reset.
INVITATION_PURPOSES = ("invite", "reset")


class Invitation(db.Model):
    """A link that lets one person set their password once, before it expires."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16), default="invite")
    #: The event whose hosts were onboarded together (for the printed sheet), if any.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set when a newer link replaced this one, or the account was disabled.
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def is_open(self, now: datetime) -> bool:
        """Not used, not revoked, not expired."""
        return self.used_dt is None and self.revoked_dt is None and now < self.expires_dt
