"""Security: CSRF on every state-changing form (nothing written without the token; the API's Bearer
path is exempt by design), security headers on every page (CSP without 'unsafe-inline' script,
frame-ancestors 'none', HSTS over HTTPS), no inline script in any page, session cookies HttpOnly and
SameSite (and Secure in production, in a real Set-Cookie), scrypt password hashes, and the check-in
rate limit (per account; shared through Redis when scaled out, as configuration)."""
from __future__ import annotations

import re

import pytest

from config import DevelopmentConfig, ProductionConfig
from launch import create_app
from launch.extensions import db
from tests.conftest import make_app
from tests.support.security import build_world, diff, snapshot
from tests.web.test_access_matrix import ANON, OPERATOR, Case, cases, is_login_redirect, send

CSRF_MESSAGE_VI = "Biểu mẫu đã hết hạn"


def make_users() -> dict:
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user

    import_bundled_directory()
    return {
        "operator": create_user("op", "test-pass-2023", "operator"),
        "viewer": create_user("viewer", "test-pass-2023", "viewer"),
        "district_host": create_user("dhost", "test-pass-2023", "host", unit_codes=("524",)),
        "commune_host": create_user("chost", "test-pass-2023", "host", unit_codes=("21046",)),
        "other_host": create_user("ohost", "test-pass-2023", "host", unit_codes=("522",)),
    }


@pytest.fixture
def csrf_app(request, clock):
    """SQLite, CSRF ON (as in production), the directory, the users and the prepared world."""
    application = make_app("sqlite", request, WTF_CSRF_ENABLED=True)
    ctx = application.app_context()
    ctx.push()
    users = make_users()
    application.world = build_world(users)
    yield application
    db.session.remove()
    db.drop_all()
    db.engine.dispose()
    ctx.pop()


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in_with_csrf(client, username: str = "op", base: str = "") -> str:
    """Sign in the way a browser does (token from the form); returns a token for later writes."""
    token = csrf_token_of(client.get(base + "/login").get_data(as_text=True))
    resp = client.post(base + "/login", data={"username": username, "password": "test-pass-2023", "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return csrf_token_of(client.get(base + "/").get_data(as_text=True))


def post_routes(world) -> list[Case]:
    return [c for c in cases(world) if c.method == "POST"]


def test_every_form_refuses_a_post_without_the_csrf_token_and_writes_nothing(csrf_app):
    world = csrf_app.world
    client = csrf_app.test_client()
    good_token = sign_in_with_csrf(client)
    checked = 0
    for case in post_routes(world):
        if case.rule.startswith("/api/") or case.rule == "/wall/hooks/zoom":
            continue  # the API checks the header itself (next test); the webhook is signed
        if case.rule == "/c/points/<int:point_id>/page-closed":
            continue  # the closing beacon: exempt by design, tested in tests/web/test_corrections.py
        with client.session_transaction() as sess:
            sess.pop("_flashes", None)
        before = snapshot()
        resp = send(client, case)
        assert resp.status_code == 302 and not is_login_redirect(resp), (case.url, resp.status_code)
        with client.session_transaction() as sess:
            flashes = [str(m) for _cat, m in sess.get("_flashes", [])]
        assert any(CSRF_MESSAGE_VI in m for m in flashes), (case.url, flashes)
        assert diff(before, snapshot()) == {}, f"{case.url} wrote without a CSRF token"
        checked += 1
    assert checked >= 30
    # Still signed in (the logout without a token was refused too) ...
    assert client.get("/").status_code == 200
    # ... and with the token the same form works: the check above can tell the difference.
    resp = client.post(f"/c/points/{world.point_id}/headcount", data={"headcount": "17", "csrf_token": good_token})
    assert resp.status_code == 302 and f"/c/points/{world.point_id}" in resp.headers["Location"]
    from launch.models import EventPoint

    db.session.expire_all()
    assert db.session.get(EventPoint, world.point_id).headcount == 17


def test_sign_in_itself_needs_the_token(csrf_app):
    client = csrf_app.test_client()
    resp = client.post("/login", data={"username": "op", "password": "test-pass-2023"})
    assert resp.status_code == 302
    assert client.get("/").status_code == 302  # not signed in


def test_api_session_writes_need_the_header_bearer_writes_are_exempt(csrf_app):
    from launch.services import api_tokens

    world = csrf_app.world
    client = csrf_app.test_client()
    token = sign_in_with_csrf(client, "chost")
    for case in post_routes(world):
        if not case.rule.startswith("/api/"):
            continue
        before = snapshot()
        resp = send(client, case)
        assert resp.status_code == 400 and resp.get_json()["code"] == "csrf_failed", case.url
        assert diff(before, snapshot()) == {}, case.url
    with_header = client.post(f"/api/v1/points/{world.point_id}/headcount", json={"headcount": 9},
                              headers={"X-CSRFToken": token})
    assert with_header.status_code == 200
    from launch.models import User

    user = db.session.scalar(db.select(User).where(User.username == "chost"))
    _t, secret = api_tokens.create_api_token(user, "scanner 2")
    bearer = csrf_app.test_client().post(f"/api/v1/points/{world.point_id}/headcount", json={"headcount": 10},
                                         headers={"Authorization": f"Bearer {secret}"})
    assert bearer.status_code == 200 and bearer.get_json()["headcount"] == 10


# --- headers on every page --------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son(click|load|submit|change|input|error)\s*=", re.I)


def check_headers(resp, where: str, *, https: bool) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives.get("script-src", "'none'"), (where, csp)
    assert "'unsafe-eval'" not in directives.get("script-src", ""), (where, csp)
    assert directives.get("frame-ancestors") == "'none'", (where, csp)
    assert directives.get("object-src") == "'none'", (where, csp)
    assert resp.headers.get("X-Frame-Options") == "DENY", where
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("Referrer-Policy"), where
    hsts = resp.headers.get("Strict-Transport-Security")
    if https:
        assert hsts and "max-age=31536000" in hsts, where
    else:
        assert hsts is None, where
    if resp.mimetype == "text/html":
        html = resp.get_data(as_text=True)
        assert not INLINE_SCRIPT.search(html), (where, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (where, INLINE_HANDLER.search(html).group(0))


@pytest.mark.parametrize("https", [True, False])
def test_security_headers_on_every_page_and_answer(app, users, clock, https):
    world = build_world(users)
    base = "https://localhost" if https else "http://localhost"
    clients = {}
    for role, name in ((ANON, None), (OPERATOR, "op"), ("host", "chost")):
        c = app.test_client()
        if name:

            assert c.post(base + "/login", data={"username": name, "password": "test-pass-2023"}).status_code == 302
        clients[role] = c
    seen = 0
    for case in cases(world):
        if case.method != "GET":
            continue
        for role, client in clients.items():
            resp = client.get(base + case.url)
            check_headers(resp, f"{role} GET {case.url} -> {resp.status_code}", https=https)
            seen += 1
    # Error pages and JSON errors too.
    for path in ("/nowhere", "/api/v1/nowhere", "/c/points/999999"):
        check_headers(clients[OPERATOR].get(base + path), path, https=https)
    assert seen > 150


# --- cookies and passwords -----------------------------------------------------------------------------

def cookie_header(resp, name: str) -> str:
    found = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, resp.headers.getlist("Set-Cookie")
    return found[-1]


def test_session_and_remember_cookies_are_httponly_and_samesite(client, users):
    resp = client.post("/login", data={"username": "op", "password": "test-pass-2023", "remember": "y"})
    session = cookie_header(resp, "session")
    remember = cookie_header(resp, "remember_token")
    for header in (session, remember):
        assert "HttpOnly" in header and "SameSite=Lax" in header, header
        assert "Secure" not in header  # the testing config runs over plain HTTP


def test_production_cookies_are_secure_and_passwords_scrypt(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s3cr3t-" + "k" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/prod.db")
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True and app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    with app.app_context():
        db.create_all()
        from launch.models import User
        from launch.services.users import authenticate, create_user

        create_user("ioc", "ioc-launch-2023", "operator")
        stored = db.session.scalar(db.select(User).where(User.username == "ioc")).password_hash
        assert stored.startswith("scrypt:") and "ioc-launch-2023" not in stored
        assert authenticate("ioc", "ioc-launch-2023") is not None
        assert authenticate("ioc", "wrong") is None
        client = app.test_client()
        base = "https://localhost"
        token = csrf_token_of(client.get(base + "/login").get_data(as_text=True))
        # Over HTTPS Flask-WTF also checks that the Referer is this site (browsers send it: our
        # Referrer-Policy is same-origin); without it the sign-in is refused as a CSRF failure.
        refused = client.post(base + "/login", data={"username": "ioc", "password": "ioc-launch-2023",
                                                     "remember": "y", "csrf_token": token})
        assert not [h for h in refused.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
        assert client.get(base + "/").status_code == 302  # not signed in
        token = csrf_token_of(client.get(base + "/login").get_data(as_text=True))
        resp = client.post(base + "/login", data={"username": "ioc", "password": "ioc-launch-2023",
                                                  "remember": "y", "csrf_token": token},
                           headers={"Referer": base + "/login"})
        assert resp.status_code == 302 and resp.headers["Location"] == "/"
        header = cookie_header(resp, "session")
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header, header
        remember = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
        assert len(remember) == 1 and "Secure" in remember[0] and "HttpOnly" in remember[0], remember
        assert client.get(base + "/", headers={"Referer": base + "/login"}).status_code == 200  # signed in
        assert "Strict-Transport-Security" in resp.headers
        db.session.remove()
        db.engine.dispose()


# --- rate limits -----------------------------------------------------------------------------------------

def test_redis_url_shares_rate_limits_and_socketio_when_scaled_out(monkeypatch):
    """Config only: an app made with REDIS_URL would keep Flask-SocketIO's Redis manager in this process."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    for cls in (DevelopmentConfig, ProductionConfig):
        assert "RATELIMIT_STORAGE_URI" not in cls.from_env()
        assert cls.RATELIMIT_STORAGE_URI == "launch-memory://"
    monkeypatch.setenv("REDIS_URL", "redis://10.0.0.5:6379/2")
    for cls in (DevelopmentConfig, ProductionConfig):
        values = cls.from_env()
        assert values["RATELIMIT_STORAGE_URI"] == "redis://10.0.0.5:6379/2"
        assert values["REDIS_URL"] == "redis://10.0.0.5:6379/2"  # the Socket.IO message queue


def test_the_one_process_rate_limit_store_counts_and_expires_without_a_thread_per_hit(monkeypatch):
    """`limits`' memory store started a timer thread per hit once the last one had run out: one per scan."""
    import threading

    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from launch.extensions import SweptMemoryStorage

    store = storage_from_string("launch-memory://")
    assert isinstance(store, SweptMemoryStorage)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    limit = FixedWindowRateLimiter(store)
    two = parse("2 per minute")
    assert limit.hit(two, "k") and limit.hit(two, "k") and not limit.hit(two, "k")
    assert started == []
    for key in store.expirations:  # the window is over
        store.expirations[key] = 0
    assert limit.hit(two, "k")  # a counter expires when read
    store.incr("old", 60)
    store.expirations["old"] = 0
    store._swept -= store.SWEEP_SECONDS  # the next hit sweeps what is never read again
    limit.hit(two, "k")
    assert "old" not in store.storage and started == []


def test_site_checkin_page_is_rate_limited_per_account(request, clock):
    app = make_app("sqlite", request, RATELIMIT_ENABLED=True, CHECKIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        users = make_users()
        world = build_world(users)
        from tests.conftest import login

        host, district = app.test_client(), app.test_client()
        assert login(host, "chost").status_code == 302 and login(district, "dhost").status_code == 302
        codes = [host.post(f"/c/{world.site_token}").status_code for _ in range(5)]
        assert codes[:3] == [302, 302, 302] and codes[3:] == [429, 429]
        codes = [host.post(f"/c/points/{world.point_id}/headcount", data={"headcount": "5"}) for _ in range(4)]
        assert [r.status_code for r in codes] == [302, 302, 302, 429]
        assert "Quá nhiều" in codes[-1].get_data(as_text=True)
        # Another account (same address) is not held back.
        assert district.post(f"/c/points/{world.point_id}/headcount", data={"headcount": "6"}).status_code == 302
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
