"""QR and badge tokens over HTTP (page and API): forged signature, altered payload, another event's
token, expired, revoked, and a revoked token replayed after the point was checked in with the new
one — each refused with its code, audited (checkin.refused) and writing nothing else."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from launch.extensions import db, socketio
from launch.models import AuditEntry, EventPoint
from launch.services import presence, tokens
from tests.conftest import login
from tests.support.checkin import CODES, START, add_attendee
from tests.support.factories import make_event, point_of
from tests.support.security import diff, snapshot


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def refusal_codes() -> list[str]:
    db.session.rollback()
    return [e.details["code"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "checkin.refused").order_by(AuditEntry.id))]


def b64(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def refuse_both_ways(app, token: str, code: str, status: int, *, event_id: int | None = None) -> None:
    """The QR address (page) and the API both refuse `token` with `code`; each refusal is audited."""
    host = app.test_client()
    assert login(host, "chost").status_code == 302
    before, audited = snapshot(), len(refusal_codes())
    page = host.post(f"/c/{token}")
    assert page.status_code == status and f'data-code="{code}"'.encode() in page.data, page.data[:300]
    body = {"token": token} if event_id is None else {"token": token, "event_id": event_id}
    api = host.post("/api/v1/site-checkins", json=body)
    assert api.status_code == status and api.get_json()["code"] == code, api.get_json()
    assert api.get_json()["message"]
    assert refusal_codes()[audited:] == [code, code]
    assert diff(before, snapshot()) == {}


def test_forged_signature(app, event, clock):
    point = point_of(event, "21046")
    forged = URLSafeSerializer("a-guessed-secret", salt=tokens.SITE_SALT).dumps([event.id, point.id, 1])
    refuse_both_ways(app, forged, "invalid_token", 400)
    good = tokens.site_token(point)
    payload, signature = good.split(".")
    refuse_both_ways(app, payload + "." + signature[::-1], "invalid_token", 400)


def test_altered_payload_keeps_the_signature_and_is_refused(app, event, clock):
    """Point the payload at another point (or a higher version) while keeping the real signature."""
    point = point_of(event, "21046")
    _payload, signature = tokens.site_token(point).split(".")
    for altered in ([event.id, point_of(event, "21043").id, 1], [event.id, point.id, 2], [event.id + 1, point.id, 1]):
        refuse_both_ways(app, b64(altered) + "." + signature, "invalid_token", 400)


def test_another_events_token(app, event, users, clock):
    other = make_event(start_dt=START, unit_codes=["21046"], title="Hội nghị trực tuyến khác")
    token = tokens.site_token(point_of(other, "21046"))
    # Named for this event's check-in, the other event's QR is refused as wrong_event (API) ...
    refuse_both_ways_api_only(app, token, event.id)
    # ... and the other event's badge at this event's point, too.
    person = add_attendee(other, "21046")
    host = app.test_client()
    login(host, "chost")
    before = snapshot()
    resp = host.post(f"/api/v1/points/{point_of(event, '21046').id}/attendee-checkins",
                     json={"client_id": "other-event-badge", "badge": tokens.badge_token(person)})
    assert resp.status_code == 409 and resp.get_json()["code"] == "wrong_event"
    assert refusal_codes()[-1] == "wrong_event"
    assert diff(before, snapshot()) == {}


def refuse_both_ways_api_only(app, token: str, event_id: int) -> None:
    host = app.test_client()
    login(host, "chost")
    before = snapshot()
    resp = host.post("/api/v1/site-checkins", json={"token": token, "event_id": event_id})
    assert resp.status_code == 409 and resp.get_json()["code"] == "wrong_event"
    assert refusal_codes()[-1] == "wrong_event"
    assert diff(before, snapshot()) == {}


def test_expired_after_the_event(app, event):
    token = tokens.site_token(point_of(event, "21046"))
    with time_machine.travel(START + timedelta(hours=2, minutes=1), tick=False):
        refuse_both_ways(app, token, "expired", 410)


def test_revoked_then_replayed_after_the_new_code_checked_the_point_in(app, event, users, clock):
    point = point_of(event, "21046")
    old = tokens.site_token(point)
    old_presence = presence.presence_token(point, users["commune_host"])
    operator = app.test_client()
    login(operator, "op")
    assert operator.post(f"/c/events/{event.id}/points/{point.id}/revoke").status_code == 302
    refuse_both_ways(app, old, "revoked", 410)
    # The new code checks the point in ...
    db.session.expire_all()
    new = tokens.site_token(db.session.get(EventPoint, point.id))
    assert new != old
    host = app.test_client()
    login(host, "chost")
    assert host.post("/api/v1/site-checkins", json={"token": new}).get_json()["code"] == "checked_in"
    # ... and replaying the withdrawn one afterwards is still "revoked", not "already checked in":
    # a leaked QR never tells who checked in, nor when.
    refuse_both_ways(app, old, "revoked", 410)
    page = host.get(f"/c/{old}")
    assert page.status_code == 410 and b'data-code="revoked"' in page.data
    assert refusal_codes()[-1] == "revoked"
    # The withdrawn QR's presence token no longer opens the host page's live connection either.
    assert not socketio.test_client(app, auth={"point": point.id, "token": old_presence}).is_connected()
    fresh = socketio.test_client(app, auth={"point": point.id,
                                            "token": presence.presence_token(db.session.get(EventPoint, point.id),
                                                                            users["commune_host"])})
    assert fresh.is_connected()
    fresh.disconnect()
