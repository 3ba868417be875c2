"""Notices and the channels they go out on, stored as rows so they survive restarts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.users import User

CHANNEL_KINDS = ("inapp", "email", "webhook")
#: `sending` while a deliverer holds it; `failed` after the last retry (shown to operators, retried by hand);
#: `skipped` when the recipient has no address on that channel (recorded, so the gap is visible).
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class NotificationChannel(db.Model):
    """A way to reach people an operator configured: in-app, e-mail over SMTP, or a webhook."""

    __tablename__ = "notification_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Channel settings: webhook `url` (+ optional `secret`); e-mail `host`, `port`, `sender`.
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """One notice to one recipient on one channel, with its delivery record."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_tasks.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("notification_channels.id", ondelete="SET NULL"))
    channel_kind: Mapped[str] = mapped_column(String(16))
    #: Address the notice went to (e-mail, webhook URL) or the user name for in-app.
    recipient: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))

    user: Mapped[User | None] = relationship()
    channel: Mapped[NotificationChannel | None] = relationship()
