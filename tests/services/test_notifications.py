"""Notice delivery: e-mail to a real local SMTP server, webhooks to a local HTTP receiver, retries,
failures kept visible, channel validation, and the sweep delivering."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from launch.extensions import db
from launch.models import Notification
from launch.services import notifications
from launch.services.errors import ValidationFailed

NOW = datetime(2023, 7, 28, 0, 0, tzinfo=UTC)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


class Receiver:
    """A local webhook receiver answering with the status codes queued in `answers` (then 200)."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def host(make_user, directory):
    return make_user("host", units=["21046"], email="host@binhthanh.example", phone="0912000111",
                     display_name="Chủ tịch UBND xã Bình Thạnh")


def notices(kind):
    return db.session.scalars(select(Notification).where(Notification.channel_kind == kind)).all()


def test_inapp_only_by_default(host):
    rows = notifications.send_notice([host], "Nhắc lịch", "Body")
    db.session.commit()
    assert [(r.channel_kind, r.status) for r in rows] == [("inapp", "sent")]
    assert notifications.unread_count(host) == 1
    notifications.mark_read(host)
    assert notifications.unread_count(host) == 0


def test_email_is_delivered_over_smtp(host, smtp, users):
    controller, inbox = smtp
    notifications.create_channel("email", "SMTP tỉnh", {"host": "127.0.0.1", "port": controller.port,
                                                        "sender": "ioc@quangngai.example"}, actor=users["operator"])
    notifications.send_notice([host], "Nhắc: lễ phát động", "Bắt đầu lúc 08:00.", now=NOW)
    db.session.commit()
    assert notifications.deliver_pending(NOW) == {"sent": 1}
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["host@binhthanh.example"]
    assert envelope.mail_from == "ioc@quangngai.example"
    assert "Bắt đầu lúc 08:00." in envelope.content.decode("utf-8", "replace") or envelope.content
    row = notices("email")[0]
    assert row.status == "sent" and row.sent_dt == NOW and row.attempts == 1
    # Delivered once: another sweep sends nothing.
    assert notifications.deliver_pending(NOW + timedelta(minutes=5)) == {}
    assert len(inbox.messages) == 1


def test_email_without_server_fails_visibly(host):
    notifications.create_channel("email", "No server", {})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    assert notifications.deliver_pending(NOW) == {"failed": 1}
    row = notices("email")[0]
    assert row.status == "failed" and row.last_error.startswith("no_smtp_server")
    assert "MAIL_SERVER" in notifications.error_text(row.last_error)["text"]


def test_delivery_errors_read_in_the_users_language_with_the_detail_apart(app, host):
    """Operators read what went wrong, not `URLError(ConnectionRefusedError(111, ...))`."""
    from flask_babel import force_locale

    notifications.create_channel("webhook", "Cổng đã tắt", {"url": "http://127.0.0.1:9/hook"})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    notifications.deliver_pending(NOW)
    row = notices("webhook")[0]
    assert row.last_error.startswith("connection_refused: ")
    with app.test_request_context(), force_locale("vi"):
        said = notifications.error_text(row.last_error)
    assert said["text"].startswith("Máy chủ nhận từ chối kết nối") and "URLError" not in said["text"]
    assert "URLError" in said["detail"] and "127.0.0.1:9" in said["detail"]
    with app.test_request_context(), force_locale("vi"):
        assert notifications.error_text("an old row written before codes")["text"] == "Gửi không thành công."


def test_webhook_posts_signed_json(host, receiver):
    notifications.create_channel("webhook", "SMS gateway", {"url": receiver.url, "secret": "s3cret"})
    notifications.send_notice([host], "Nhắc lịch", "Bắt đầu lúc 08:00.", now=NOW)
    db.session.commit()
    assert notifications.deliver_pending(NOW) == {"sent": 1}
    headers, body = receiver.requests[0]
    payload = json.loads(body)
    assert payload["subject"] == "Nhắc lịch" and payload["recipient"]["phone"] == "0912000111"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Launch-Signature"] == expected
    assert headers["Content-Type"].startswith("application/json")


def test_failing_webhook_is_retried_with_backoff_then_failed(host, receiver):
    receiver.answers = [500, 500, 500]
    notifications.create_channel("webhook", "Flaky", {"url": receiver.url})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    assert notifications.deliver_pending(NOW) == {"pending": 1}
    row = notices("webhook")[0]
    assert row.attempts == 1 and row.next_attempt_dt == NOW + timedelta(seconds=60) and "500" in row.last_error
    assert notifications.deliver_pending(NOW + timedelta(seconds=30)) == {}  # not yet
    assert notifications.deliver_pending(NOW + timedelta(seconds=60)) == {"pending": 1}
    db.session.expire_all()
    assert notices("webhook")[0].next_attempt_dt == NOW + timedelta(seconds=360)
    assert notifications.deliver_pending(NOW + timedelta(seconds=360)) == {"failed": 1}
    db.session.expire_all()
    row = notices("webhook")[0]
    assert row.status == "failed" and row.attempts == 3 and len(receiver.requests) == 3
    # An operator retries it by hand once the gateway is back.
    notifications.retry_notice(row, now=NOW + timedelta(hours=1))
    assert notifications.deliver_pending(NOW + timedelta(hours=1)) == {"sent": 1}
    assert len(receiver.requests) == 4


def test_closed_port_is_retried_then_failed(host):
    url = f"http://127.0.0.1:{free_port()}/nobody"
    notifications.create_channel("webhook", "Closed", {"url": url})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    when = NOW
    for _ in range(3):
        notifications.deliver_pending(when)
        when += timedelta(hours=1)
    db.session.expire_all()
    row = notices("webhook")[0]
    assert row.status == "failed" and row.attempts == 3 and row.last_error


def test_interrupted_send_is_failed_not_resent(host, receiver):
    notifications.create_channel("webhook", "Gateway", {"url": receiver.url})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    row = notices("webhook")[0]
    assert notifications._claim_notice(row.id, NOW)  # the process died after claiming, mid-send
    assert notifications.deliver_pending(NOW + timedelta(minutes=1)) == {}
    notifications.deliver_pending(NOW + timedelta(minutes=6))
    db.session.expire_all()
    row = notices("webhook")[0]
    assert row.status == "failed" and "interrupted" in row.last_error
    assert receiver.requests == []


@pytest.mark.parametrize(("kind", "config", "fragment"), [
    ("webhook", {"url": "ftp://x"}, "webhook URL"),
    ("webhook", {"url": "not a url"}, "webhook URL"),
    ("webhook", {"url": "http://"}, "webhook URL"),
    ("email", {"port": "99999"}, "port"),
    ("inapp", {}, "e-mail or webhook"),
])
def test_bad_channels_are_refused(app, client, kind, config, fragment):
    client.get("/lang/en")
    with app.test_request_context(), pytest.raises(ValidationFailed) as exc:
        from flask import session

        session["lang"] = "en"
        notifications.create_channel(kind, "Name", config)
    assert exc.value.code == "invalid_channel"
    assert any(fragment in str(e) for e in exc.value.errors)
    db.session.rollback()
    from launch.models import NotificationChannel

    assert db.session.scalars(select(NotificationChannel)).all() == []


def test_sweep_runs_tasks_and_delivers(host, receiver, app):
    from launch.jobs.scheduler import sweep

    notifications.create_channel("webhook", "Gateway", {"url": receiver.url})
    notifications.send_notice([host], "S", "B", now=NOW)
    db.session.commit()
    sweep(app)
    db.session.expire_all()
    assert notices("webhook")[0].status == "sent"
    assert len(receiver.requests) == 1
