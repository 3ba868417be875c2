"""Notices to people: in-app, e-mail over SMTP, webhook (JSON POST). Every notice is a row.

`send_notice` is the one entry point for events, campaigns and the scheduler. In-app notices are
delivered by being stored; e-mail and webhook notices are queued as `pending` rows and delivered by
`deliver_pending` (retried with backoff, then marked failed: never silently dropped).

Delivery is at most once: a row is claimed (`pending -> sending`, committed) before the send. A process
killed in the middle of a send leaves the row `sending`; after the lease it is marked failed with an
explanation instead of being sent again blindly (the message may have gone out), and an operator can
retry it from the notification log.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Notification, NotificationChannel, ScheduledTask, User
from launch.models.notifications import CHANNEL_KINDS
from launch.services import audit
from launch.services.delivery_errors import SKIPPED_NO_EMAIL, DeliveryError, network_code
from launch.services.delivery_errors import error_text as error_text  # re-exported for the notice log
from launch.services.errors import NotFound, ValidationFailed, all_or_nothing
from launch.services.text import small_int

log = logging.getLogger(__name__)

#: Attempts before a notice is marked failed.
MAX_ATTEMPTS = 3
#: Wait before the 2nd, 3rd, ... attempt (seconds); the last value repeats.
RETRY_BACKOFF_SECONDS = (60, 300)
#: A notice left `sending` longer than this was interrupted (the process died mid-send).
SENDING_LEASE_SECONDS = 300
SEND_TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Launch-Signature"


def send_notice(
    recipients: Iterable[User],
    subject: str,
    body: str,
    *,
    task: ScheduledTask | None = None,
    event_id: int | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Record one notice per recipient per enabled channel (in-app always); caller commits.

    `now` (default: the clock) is when it is recorded and when e-mail/webhook delivery becomes due.
    """
    now = now or utcnow()
    channels = list(db.session.scalars(
        select(NotificationChannel).where(NotificationChannel.is_enabled).order_by(NotificationChannel.id)
    ))
    rows: list[Notification] = []
    for user in recipients:
        common = {"task_id": task.id if task else None, "user_id": user.id, "subject": subject[:300],
                  "body": body, "event_id": event_id, "campaign_id": campaign_id}
        rows.append(Notification(channel_kind="inapp", recipient=user.username, status="sent", sent_dt=now,
                                 attempts=1, created_dt=now, **common))
        for channel in channels:
            if channel.kind == "email" and user.email:
                rows.append(Notification(channel_id=channel.id, channel_kind="email", recipient=user.email,
                                         next_attempt_dt=now, created_dt=now, **common))
            elif channel.kind == "email":
                # No address: nothing can be sent, but the notice log shows who was not reached.
                rows.append(Notification(channel_id=channel.id, channel_kind="email", recipient=user.username,
                                         status="skipped", last_error=SKIPPED_NO_EMAIL, created_dt=now, **common))
            elif channel.kind == "webhook":
                rows.append(Notification(channel_id=channel.id, channel_kind="webhook",
                                         recipient=(channel.config or {}).get("url", ""), next_attempt_dt=now,
                                         created_dt=now, **common))
    db.session.add_all(rows)
    return rows


# --- delivery ---------------------------------------------------------------------------------------


def _send_email(notice: Notification, channel: NotificationChannel) -> None:
    config = channel.config or {}
    host = config.get("host") or current_app.config.get("MAIL_SERVER")
    if not host:
        raise DeliveryError("no_smtp_server", permanent=True)
    port = int(config.get("port") or current_app.config.get("MAIL_PORT") or 25)
    message = EmailMessage()
    message["From"] = config.get("sender") or current_app.config.get("MAIL_FROM", "launch@localhost")
    message["To"] = notice.recipient
    message["Subject"] = notice.subject
    message["X-Launch-Notice"] = str(notice.id)
    message.set_content(notice.body)
    try:
        with smtplib.SMTP(host, port, timeout=SEND_TIMEOUT_SECONDS) as smtp:
            if config.get("starttls"):
                smtp.starttls()
            if config.get("username"):
                smtp.login(config["username"], config.get("password", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(network_code(exc), f"SMTP {host}:{port}: {exc!r}") from exc


def webhook_payload(notice: Notification) -> dict[str, Any]:
    """The JSON body posted to a webhook: enough for an SMS or chat gateway to relay the notice."""
    user = notice.user
    return {
        "id": notice.id,
        "subject": notice.subject,
        "body": notice.body,
        "recipient": {
            "username": user.username if user else None,
            "name": user.display_name if user else None,
            "phone": user.phone if user else None,
            "email": user.email if user else None,
        },
        "event_id": notice.event_id,
        "campaign_id": notice.campaign_id,
        "created": iso(notice.created_dt),
    }


def sign(body: bytes, secret: str) -> str:
    """The signature header value: `sha256=` + HMAC-SHA256 of the raw body with the channel's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_webhook(notice: Notification, channel: NotificationChannel) -> None:
    config = channel.config or {}
    url = config.get("url") or ""
    if not valid_http_url(url):
        raise DeliveryError("bad_webhook_url", repr(url), permanent=True)
    body = json.dumps(webhook_payload(notice), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "launch-notifier"}
    if config.get("secret"):
        headers[SIGNATURE_HEADER] = sign(body, config["secret"])
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError("http_status", f"HTTP {exc.code} from {url}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryError(network_code(exc), f"{url}: {exc!r}") from exc
    if not 200 <= status < 300:
        raise DeliveryError("http_status", f"HTTP {status} from {url}")


SENDERS = {"email": _send_email, "webhook": _send_webhook}


def _claim_notice(notice_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notice_id, Notification.status == "pending")
        .values(status="sending", attempts=Notification.attempts + 1, next_attempt_dt=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt."""
    steps = current_app.config.get("NOTIFY_RETRY_BACKOFF_SECONDS", RETRY_BACKOFF_SECONDS)
    return timedelta(seconds=steps[min(attempts, len(steps)) - 1])


def deliver_one(notice_id: int, now: datetime) -> str | None:
    """Claim and send one pending notice; returns its new status (None if another deliverer has it)."""
    if not _claim_notice(notice_id, now):
        return None
    notice = db.session.get(Notification, notice_id)
    db.session.refresh(notice)
    channel = notice.channel
    try:
        if channel is None:
            raise DeliveryError("channel_deleted", permanent=True)
        if not channel.is_enabled:
            raise DeliveryError("channel_disabled", permanent=True)
        sender = SENDERS.get(notice.channel_kind)
        if sender is None:
            raise DeliveryError("unknown_kind", repr(notice.channel_kind), permanent=True)
        sender(notice, channel)
    except DeliveryError as exc:
        notice.last_error = str(exc)[:2000]
        max_attempts = current_app.config.get("NOTIFY_MAX_ATTEMPTS", MAX_ATTEMPTS)
        if exc.permanent or notice.attempts >= max_attempts:
            notice.status, notice.next_attempt_dt = "failed", None
            log.warning("notice %s failed for good: %s", notice.id, exc)
        else:
            notice.status, notice.next_attempt_dt = "pending", now + backoff(notice.attempts)
        db.session.commit()
        return notice.status
    notice.status, notice.sent_dt, notice.last_error, notice.next_attempt_dt = "sent", now, None, None
    db.session.commit()
    return "sent"


def recover_interrupted(now: datetime) -> int:
    """Notices left `sending` past the lease: marked failed (maybe delivered: never re-sent blindly)."""
    lease = timedelta(seconds=current_app.config.get("NOTIFY_SENDING_LEASE_SECONDS", SENDING_LEASE_SECONDS))
    result = db.session.execute(
        update(Notification)
        .where(Notification.status == "sending", Notification.next_attempt_dt < now - lease)
        .values(status="failed", next_attempt_dt=None,
                last_error="interrupted: the process stopped while sending; it may or may not have arrived, "
                           "so it is not re-sent automatically")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def deliver_pending(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the e-mail and webhook notices that are due; returns counts by resulting status."""
    now = now or utcnow()
    recover_interrupted(now)
    due_ids = db.session.scalars(
        select(Notification.id)
        .where(Notification.status == "pending", Notification.channel_kind.in_(tuple(SENDERS)),
               or_(Notification.next_attempt_dt.is_(None), Notification.next_attempt_dt <= now))
        .order_by(Notification.next_attempt_dt, Notification.id)
        .limit(limit)
    ).all()
    counts: dict[str, int] = {}
    for notice_id in due_ids:
        status = deliver_one(notice_id, now)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def retry_notice(notice: Notification, *, actor: User | None = None, now: datetime | None = None) -> Notification:
    """Queue a failed notice again (a fresh round of attempts); audited."""
    if notice.status != "failed":
        raise ValidationFailed("not_failed", _("Only a failed notice can be retried."))
    notice.status, notice.attempts, notice.next_attempt_dt = "pending", 0, now or utcnow()
    audit.record("notice.retried", f"notice {notice.id} to {notice.recipient} queued again", user=actor,
                 target=notice, details={"recipient": notice.recipient, "channel_kind": notice.channel_kind})
    db.session.commit()
    return notice


# --- in-app notices ------------------------------------------------------------------------------


def inbox_query(user: User) -> Select:
    """The user's in-app notices, newest first."""
    return (select(Notification)
            .where(Notification.user_id == user.id, Notification.channel_kind == "inapp")
            .order_by(Notification.created_dt.desc(), Notification.id.desc()))


def unread_count(user: User) -> int:
    """How many in-app notices the user has not read."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.channel_kind == "inapp", Notification.read_dt.is_(None))
    ) or 0


def mark_read(user: User, notice_id: int | None = None) -> int:
    """Mark one (or every) in-app notice of the user read; returns how many changed."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.channel_kind == "inapp",
                                      Notification.read_dt.is_(None))
    if notice_id is not None:
        stmt = stmt.where(Notification.id == notice_id)
    result = db.session.execute(stmt.values(read_dt=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


# --- channels --------------------------------------------------------------------------------------


def valid_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _clean_channel(kind: str, name: str, config: dict[str, Any], existing: dict | None = None) -> dict[str, Any]:
    errors: list[str] = []
    if kind not in CHANNEL_KINDS or kind == "inapp":
        errors.append(_("Choose e-mail or webhook (in-app notices are always on)."))
    if not (name or "").strip():
        errors.append(_("A name is required."))
    elif len(name.strip()) > 100:
        errors.append(_("The name is longer than 100 characters."))
    clean: dict[str, Any] = {}
    existing = existing or {}
    if kind == "webhook":
        url = (config.get("url") or "").strip()
        if not valid_http_url(url) or len(url) > 300:
            errors.append(_("The webhook URL must be a full http:// or https:// address."))
        clean["url"] = url
        secret = (config.get("secret") or "").strip()
        clean["secret"] = secret or existing.get("secret", "")
        if config.get("clear_secret"):
            clean["secret"] = ""
    elif kind == "email":
        host = (config.get("host") or "").strip()
        if host and (" " in host or "/" in host or len(host) > 200):
            errors.append(_("The SMTP server must be a host name or address."))
        clean["host"] = host
        port = str(config.get("port") or "").strip()
        if port:
            if not 0 < (small_int(port) or 0) < 65536:
                errors.append(_("The SMTP port must be a number from 1 to 65535."))
            else:
                clean["port"] = int(port)
        sender = (config.get("sender") or "").strip()
        if sender and ("@" not in sender or len(sender) > 200):
            errors.append(_("The sender must be an e-mail address."))
        clean["sender"] = sender
        clean["starttls"] = bool(config.get("starttls"))
        clean["username"] = (config.get("username") or "").strip()
        password = config.get("password") or ""
        clean["password"] = password or existing.get("password", "")
    if errors:
        raise ValidationFailed("invalid_channel", _("The channel was not saved."), errors=errors)
    return clean


def _shown_config(config: dict[str, Any]) -> dict[str, Any]:
    """A channel's settings as the audit log may show them (secrets and passwords never)."""
    return {k: v for k, v in config.items() if k not in ("secret", "password")}


@all_or_nothing
def create_channel(kind: str, name: str, config: dict[str, Any], *, is_enabled: bool = True,
                   actor: User | None = None) -> NotificationChannel:
    """Add an e-mail or webhook channel; every notice sent from now on also goes through it."""
    clean = _clean_channel(kind, name, config)
    channel = NotificationChannel(kind=kind, name=name.strip(), config=clean, is_enabled=is_enabled)
    db.session.add(channel)
    db.session.flush()
    audit.record("channel.created", f"{kind} channel {channel.name} created", user=actor, target=channel,
                 details={"name": channel.name, "kind": kind,
                          **{k: v for k, v in clean.items() if k not in ("secret", "password")}})
    db.session.commit()
    return channel


@all_or_nothing
def update_channel(channel: NotificationChannel, name: str, config: dict[str, Any], *, is_enabled: bool,
                   actor: User | None = None) -> NotificationChannel:
    """Change a channel (a blank secret or password keeps the stored one)."""
    clean = _clean_channel(channel.kind, name, config, existing=channel.config)
    before = {"name": channel.name, "is_enabled": bool(channel.is_enabled), **_shown_config(channel.config or {})}
    channel.name, channel.config, channel.is_enabled = name.strip(), clean, is_enabled
    after = {"name": channel.name, "is_enabled": bool(is_enabled), **_shown_config(clean)}
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    audit.record("channel.updated", f"{channel.kind} channel {channel.name} updated", user=actor, target=channel,
                 details={"name": channel.name, "kind": channel.kind, "changes": changes})
    db.session.commit()
    return channel


def delete_channel(channel: NotificationChannel, *, actor: User | None = None) -> None:
    """Remove a channel; its log rows stay (pending ones then fail with a clear reason)."""
    audit.record("channel.deleted", f"{channel.kind} channel {channel.name} deleted", user=actor, target=channel,
                 details={"name": channel.name, "kind": channel.kind})
    db.session.delete(channel)
    db.session.commit()


def get_channel(channel_id: int) -> NotificationChannel:
    """The channel or NotFound."""
    channel = db.session.get(NotificationChannel, channel_id)
    if channel is None:
        raise NotFound("unknown_channel", _("This channel does not exist."))
    return channel
