"""Zoom webhooks: signature check, url_validation, participant joined/left mapped to points."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import Activity
from tests.support.factories import make_event, point_of

SECRET = "zoom-secret-token-for-tests"
MEETING_ID = 85671234567
BINH_THANH = "21046"


@pytest.fixture
def app_overrides():
    return {"ZOOM_WEBHOOK_SECRET_TOKEN": SECRET}


@pytest.fixture
def event(users):
    ev = make_event(state="live", start_dt=utcnow() - timedelta(minutes=5))
    ev.meeting_id = "856 7123 4567"
    point_of(ev, BINH_THANH).meeting_name = "UBND xã Bình Thạnh"
    db.session.commit()
    return ev


def zoom_body(kind: str, user_name: str, when: str, meeting_id=MEETING_ID) -> dict:
    """A payload shaped like Zoom's meeting.participant_joined / meeting.participant_left."""
    participant = {
        "user_id": "16778240", "user_name": user_name, "id": "iFxeBPYun6SAiWUzBcEkX",
        "participant_uuid": "55D4F3B7-5C7A-4C4C-9C6E-000000000001", "email": "",
        "registrant_id": "", "participant_user_id": "", "customer_key": "", "phone_number": "",
    }
    if kind == "meeting.participant_joined":
        participant["join_time"] = when
    else:
        participant.update(leave_time=when, leave_reason="left the meeting")
    return {
        "event": kind,
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": "AAAAAABBBB",
            "object": {
                "id": meeting_id, "uuid": "4444AAAiAAAAAiAiAiiAii==", "host_id": "x1yCzABCDEfg23HiJKl4mN",
                "topic": "Lễ phát động chuyển đổi số", "type": 2, "start_time": "2023-07-28T00:55:00Z",
                "timezone": "Asia/Saigon", "duration": 120, "participant": participant,
            },
        },
    }


def post(client, body, secret=SECRET, timestamp=None, signature=None):
    raw = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time())) if timestamp is None else timestamp
    if signature is None:
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
    headers = {"x-zm-request-timestamp": ts, "x-zm-signature": signature, "Content-Type": "application/json"}
    return client.post("/wall/hooks/zoom", data=raw, headers=headers)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_url_validation_challenge(client, app):
    body = {"payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1654503849680,
            "event": "endpoint.url_validation"}
    resp = post(client, body)
    assert resp.status_code == 200
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert resp.json == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_url_validation_must_be_signed_too(client, app):
    body = {"payload": {"plainToken": "abc"}, "event_ts": 1, "event": "endpoint.url_validation"}
    assert post(client, body, secret="wrong").status_code == 401


def test_participant_joined_then_left(client, app, event, as_user):
    point = point_of(event, BINH_THANH)
    wall = socketio.test_client(app, flask_test_client=as_user("operator"), auth={"event": event.id})
    wall.get_received()
    joined_at = utcnow().replace(microsecond=0) - timedelta(minutes=20)
    resp = post(client, zoom_body("meeting.participant_joined", "UBND Xã Bình  Thạnh", iso(joined_at)))
    assert resp.status_code == 200
    assert resp.json["handled"] is True and resp.json["point_id"] == point.id and resp.json["changed"] is True
    db.session.refresh(point)
    assert point.in_call is True and point.call_joined_dt == joined_at
    [delta] = [m["args"][0] for m in wall.get_received() if m["name"] == "wall_delta"]
    assert delta["tiles"][0]["in_call"] is True
    assert delta["feed"][0]["kind"] == "call_joined"

    # Zoom retries: the same webhook again changes nothing
    assert post(client, zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(joined_at))).json[
        "changed"] is False

    left_at = joined_at + timedelta(minutes=12, seconds=30)
    resp = post(client, zoom_body("meeting.participant_left", "UBND Xã Bình Thạnh", iso(left_at)))
    assert resp.json["changed"] is True
    db.session.refresh(point)
    assert point.in_call is False and point.call_left_dt == left_at and point.call_seconds == 750
    kinds = db.session.scalars(select(Activity.kind).where(Activity.event_point_id == point.id)
                               .order_by(Activity.id)).all()
    assert kinds == ["call_joined", "call_left"]
    # back in, and out again: the time adds up
    post(client, zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(left_at + timedelta(minutes=1))))
    post(client, zoom_body("meeting.participant_left", "UBND Xã Bình Thạnh", iso(left_at + timedelta(minutes=3))))
    db.session.refresh(point)
    assert point.call_seconds == 750 + 120
    wall.disconnect()


def test_a_unit_name_is_never_guessed_the_participant_waits_for_the_operator(client, app, event):
    """Issue 16: unit names repeat across districts; only an explicit meeting name or e-mail matches."""
    from launch.models import MeetingParticipant

    point = point_of(event, "524")
    resp = post(client, zoom_body("meeting.participant_joined", "Huyện Bình Sơn", iso(utcnow())))
    assert resp.json["reason"] == "unmatched_participant" and "point_id" not in resp.json
    db.session.refresh(point)
    assert point.in_call is False
    [waiting] = db.session.scalars(select(MeetingParticipant)).all()
    assert (waiting.user_name, waiting.status, waiting.in_call) == ("Huyện Bình Sơn", "unmatched", True)


@pytest.mark.parametrize("case", ["unsigned", "bad_signature", "other_secret", "stale", "tampered"])
def test_refused_webhooks_do_nothing(client, app, event, case):
    point = point_of(event, BINH_THANH)
    body = zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(utcnow()))
    if case == "unsigned":
        resp = client.post("/wall/hooks/zoom", json=body)
    elif case == "bad_signature":
        resp = post(client, body, signature="v0=" + "0" * 64)
    elif case == "other_secret":
        resp = post(client, body, secret="not-our-secret")
    elif case == "stale":
        resp = post(client, body, timestamp=str(int(time.time()) - 3600))
    else:
        raw = json.dumps(body).encode()
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256).hexdigest()
        body["payload"]["object"]["participant"]["user_name"] = "Huyện Bình Sơn"
        resp = client.post("/wall/hooks/zoom", data=json.dumps(body).encode(),
                           headers={"x-zm-request-timestamp": ts, "x-zm-signature": sig})
    assert resp.status_code == 401
    db.session.refresh(point)
    assert point.in_call is False
    assert db.session.scalar(select(Activity.id).where(Activity.event_id == event.id)) is None


def test_no_secret_configured_refuses(client, app, event, monkeypatch):
    monkeypatch.delenv("ZOOM_WEBHOOK_SECRET_TOKEN", raising=False)
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = None
    assert post(client, zoom_body("meeting.participant_joined", "x", iso(utcnow()))).status_code == 401


def test_secret_from_environment(client, app, event, monkeypatch):
    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = None
    monkeypatch.setenv("ZOOM_WEBHOOK_SECRET_TOKEN", "from-env")
    body = zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(utcnow()))
    assert post(client, body, secret="from-env").status_code == 200


def test_unknown_meeting_or_participant_is_acknowledged_and_ignored(client, app, event):
    resp = post(client, zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(utcnow()), meeting_id=1))
    assert resp.status_code == 200 and resp.json == {"ok": True, "handled": False, "reason": "unknown_meeting"}
    resp = post(client, zoom_body("meeting.participant_joined", "Someone's iPhone", iso(utcnow())))
    assert resp.json["reason"] == "unmatched_participant"
    resp = post(client, {"event": "meeting.started", "payload": {"object": {"id": MEETING_ID}}})
    assert resp.json["reason"] == "ignored_event"


def test_meeting_of_an_ended_event_is_not_matched(client, app, event):
    event.state = "ended"
    db.session.commit()
    resp = post(client, zoom_body("meeting.participant_joined", "UBND Xã Bình Thạnh", iso(utcnow())))
    assert resp.json["reason"] == "unknown_meeting"


def test_left_before_joined_is_ignored(client, app, event):
    resp = post(client, zoom_body("meeting.participant_left", "UBND Xã Bình Thạnh", iso(utcnow())))
    assert resp.json["changed"] is False
