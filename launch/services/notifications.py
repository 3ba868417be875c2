"""Notices to people: in-app, e-mail over SMTP, webhook (JSON POST). Every notice is a row.

`send_notice` is the one entry point for events, campaigns and the scheduler. In-app notices are
delivered by being stored; e-mail and webhook notices are queued as `pending` rows and delivered by
`deliver_pending` (retried, then marked failed: never silently dropped).
(The events feature completes delivery, retries and channel management.)
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Notification, NotificationChannel, ScheduledTask, User


def send_notice(
    recipients: Iterable[User],
    subject: str,
    body: str,
    *,
    task: ScheduledTask | None = None,
    event_id: int | None = None,
    campaign_id: int | None = None,
) -> list[Notification]:
    """Record one notice per recipient per enabled channel (in-app always); caller commits."""
    now = utcnow()
    channels = list(db.session.scalars(select(NotificationChannel).where(NotificationChannel.is_enabled)))
    rows: list[Notification] = []
    for user in recipients:
        common = {"task_id": task.id if task else None, "user_id": user.id, "subject": subject[:300],
                  "body": body, "event_id": event_id, "campaign_id": campaign_id}
        rows.append(Notification(channel_kind="inapp", recipient=user.username, status="sent", sent_dt=now,
                                 attempts=1, **common))
        for channel in channels:
            if channel.kind == "email" and user.email:
                rows.append(Notification(channel_id=channel.id, channel_kind="email", recipient=user.email,
                                         next_attempt_dt=now, **common))
            elif channel.kind == "webhook":
                rows.append(Notification(channel_id=channel.id, channel_kind="webhook",
                                         recipient=channel.config.get("url", ""), next_attempt_dt=now, **common))
    db.session.add_all(rows)
    return rows
