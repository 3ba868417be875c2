"""The JSON API: OpenAPI description and docs, session + CSRF for the app's pages, Bearer tokens
for other systems (hashed at rest, revocable), machine codes in every answer, rate limits."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import ApiToken, AttendeeCheckin, EventPoint
from launch.services import api_tokens, tokens
from tests.conftest import login
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_openapi_and_docs(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/site-checkins", "/points/{point_id}/attendee-checkins", "/points/{point_id}/headcount",
                 "/points/{point_id}/problems", "/points/{point_id}/connection-test", "/events/{event_id}/attendees"):
        assert path in spec["paths"]
    codes = spec["components"]["schemas"]["Refusal"]["allOf"][1]["properties"]["code"]["enum"]
    for code in ("wrong_event", "not_yet_open", "closed", "revoked", "unknown_point", "not_your_point",
                 "already_checked_in", "checked_in_elsewhere", "invalid_token", "expired"):
        assert code in codes
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/points/{point_id}/attendee-checkins" in docs.data


def test_anonymous_is_refused_in_json(client, event):
    resp = client.post("/api/v1/site-checkins", json={"token": "x"})
    assert resp.status_code == 401 and resp.get_json()["code"] == "unauthorized"
    resp = client.post("/api/v1/site-checkins", json={"token": "x"}, headers=bearer("qnl_nope"))
    assert resp.status_code == 401 and resp.get_json()["code"] == "invalid_api_token"


def test_answers_carry_the_machine_codes(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    token = tokens.site_token(point)
    ok = host.post("/api/v1/site-checkins", json={"token": token})
    assert ok.status_code == 200
    body = ok.get_json()
    assert (body["ok"], body["code"], body["checked_in"]) == (True, "checked_in", True)
    again = host.post("/api/v1/site-checkins", json={"token": token})
    assert again.status_code == 409
    assert again.get_json()["code"] == "already_checked_in" and again.get_json()["checked_in_by"]
    assert host.post("/api/v1/site-checkins", json={"token": token + "x"}).get_json()["code"] == "invalid_token"
    assert host.post("/api/v1/site-checkins", json={"token": token, "event_id": event.id + 5}).get_json()["code"] \
        == "wrong_event"
    other = host.post("/api/v1/site-checkins", json={"token": tokens.site_token(point_of(event, "522"))})
    assert other.status_code == 403 and other.get_json()["code"] == "not_your_point"

    person = add_attendee(event, "21046")
    url = f"/api/v1/points/{point.id}/attendee-checkins"
    scan = {"client_id": "c0ffee00-0000-4000-8000-000000000001", "badge": tokens.badge_token(person),
            "scanned_dt": "2023-07-28T00:25:00Z"}
    first = host.post(url, json=scan).get_json()
    assert first["code"] == "checked_in" and first["scanned_dt"] == "2023-07-28T00:25:00Z"
    assert host.post(url, json=scan).get_json()["replay"] is True
    dhost = as_user("district_host")
    elsewhere = dhost.post(f"/api/v1/points/{point_of(event, '524').id}/attendee-checkins",
                           json={"client_id": "another-scan-1", "attendee_id": person.id})
    assert elsewhere.status_code == 409
    assert elsewhere.get_json()["code"] == "checked_in_elsewhere"
    assert elsewhere.get_json()["point"] == "Xã Bình Thạnh (Huyện Bình Sơn)"
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin)) == 1

    assert host.post(f"/api/v1/points/{point.id}/headcount", json={"headcount": 37}).get_json()["headcount"] == 37
    assert host.post(f"/api/v1/points/{point.id}/connection-test").get_json()["code"] == "connection_tested"
    assert host.post(f"/api/v1/points/{point.id}/problems", json={"kind": "no_video"}).get_json()["code"] == \
        "problem_reported"
    assert host.post(f"/api/v1/points/{point.id}/problems", json={"kind": "x"}).get_json()["code"] == \
        "invalid_input"
    status = host.get(f"/api/v1/points/{point.id}").get_json()
    assert (status["headcount"], status["attendees_checked_in"]) == (37, 1)
    roster = host.get(f"/api/v1/points/{point.id}/roster").get_json()
    assert [a["name"] for a in roster["attendees"]] == ["Nguyễn Văn An"]
    found = host.get(f"/api/v1/events/{event.id}/attendees?q=nguyen van").get_json()
    assert [a["id"] for a in found["attendees"]] == [person.id]
    assert as_user("other_host").get(f"/api/v1/points/{point.id}/roster").status_code == 403


def test_bearer_tokens_hashed_at_rest_and_revocable(app, event, users):
    token, secret = api_tokens.create_api_token(users["commune_host"], "Máy quét cổng")
    row = db.session.get(ApiToken, token.id)
    assert secret.startswith("qnl_") and row.token_hash != secret and secret not in row.token_hash
    assert len(row.token_hash) == 64
    c = app.test_client()
    point = point_of(event, "21046")
    resp = c.post("/api/v1/site-checkins", json={"token": tokens.site_token(point)}, headers=bearer(secret))
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).checkin_method == "api"
    assert db.session.get(ApiToken, token.id).last_used_dt == DURING
    assert "session" not in (resp.headers.get("Set-Cookie") or "")
    api_tokens.revoke_api_token(token.id, users["commune_host"])
    resp = c.get(f"/api/v1/points/{point.id}", headers=bearer(secret))
    assert resp.status_code == 401 and resp.get_json()["code"] == "invalid_api_token"
    # Viewers cannot make tokens; the page shows a new secret once.
    with pytest.raises(Exception):
        api_tokens.create_api_token(users["viewer"], "x")
    page = app.test_client()
    login(page, "op")
    html = page.post("/c/api-tokens", data={"name": "IOC system"}).data.decode()
    shown = re.search(r'id="new-token">(qnl_[^<]+)<', html).group(1)
    assert api_tokens.authenticate_api_token(shown).username == "op"
    assert shown not in page.get("/c/api-tokens").data.decode()


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_session_writes_need_the_csrf_header_bearer_ones_do_not(app, event, users):
    c = app.test_client()
    form = c.get("/login").data.decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert c.post("/login", data={"username": "chost", "password": "test-pass-2023", "csrf_token": csrf}).status_code \
        == 302
    point = point_of(event, "21046")
    body = {"token": tokens.site_token(point)}
    refused = c.post("/api/v1/site-checkins", json=body)
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf_failed"
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).checked_in_dt is None
    page = c.get(f"/c/points/{point.id}/scan").data.decode()
    header = re.search(r'data-csrf="([^"]+)"', page).group(1)
    assert c.post("/api/v1/site-checkins", json=body, headers={"X-CSRFToken": header}).status_code == 200
    _token, secret = api_tokens.create_api_token(users["district_host"], "scanner")
    other = point_of(event, "21043")
    resp = app.test_client().post("/api/v1/site-checkins", json={"token": tokens.site_token(other)},
                                  headers=bearer(secret))
    assert resp.status_code == 200


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True, "CHECKIN_RATE_LIMIT": "3 per minute"}])
def test_checkin_rate_limit_is_per_account(app, event, users, as_user):
    point = point_of(event, "21046")
    host = as_user("commune_host")
    url = f"/api/v1/points/{point.id}/headcount"
    codes = [host.post(url, json={"headcount": n}).status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert host.post(url, json={"headcount": 9}).get_json()["code"] == "rate_limited"
    # Another account from the same address is not held back.
    assert as_user("district_host").post(url, json={"headcount": 10}).status_code == 200
    _t, secret = api_tokens.create_api_token(users["district_host"], "gate")
    assert app.test_client().post(url, json={"headcount": 11}, headers=bearer(secret)).status_code == 200


def test_an_attendee_check_in_costs_seven_statements_and_a_retry_the_same_answer(app, event, users):
    """The hot path of launch day (issue 7): token + owner + units in one query, the point, the
    earlier check-ins (scan id and person) in one query, the person, two inserts, commit."""
    from sqlalchemy import event as sa_event

    _token, secret = api_tokens.create_api_token(users["commune_host"], "Máy quét")
    point = point_of(event, "21046")
    people = [add_attendee(event, "21046", f"Người {i}").id for i in range(3)]
    c = app.test_client()
    url = f"/api/v1/points/{point.id}/attendee-checkins"
    c.post(url, json={"client_id": "warm-up-0001", "attendee_id": people[0]}, headers=bearer(secret))

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = c.post(url, json={"client_id": "scan-0002-abcd", "attendee_id": people[1]}, headers=bearer(secret))
        assert resp.status_code == 200 and resp.get_json()["code"] == "checked_in"
        # 5 reads: the 4 of before + the host's scope (issue 16: a host checks in their own units' people)
        assert statements.count("SELECT") == 5 and statements.count("INSERT") == 2, statements
        assert len(statements) <= 8, statements  # + COMMIT where the driver shows it
        statements.clear()
        again = c.post(url, json={"client_id": "scan-0002-abcd", "attendee_id": people[1]}, headers=bearer(secret))
        other = c.post(url, json={"client_id": "scan-0003-abcd", "attendee_id": people[1]}, headers=bearer(secret))
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert again.status_code == 200 and again.get_json()["replay"] is True
    assert other.status_code == 409 and other.get_json()["code"] == "already_checked_in"
    assert "INSERT" not in statements
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin)
                             .where(AttendeeCheckin.attendee_id == people[1])) == 1
