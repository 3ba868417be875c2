"""Event day on a host's phone (issue 14), the server's side: staying signed in when the phone's
address changes, a form sent after the session ended coming back filled in, static files named by
content and precompressed, a service worker per deployment, the point's own video-conference details
and numbers that do not lie on the host page, and the roster the phone keeps for offline scans."""
from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

import pytest

from launch.assets import Assets, hashed_name
from launch.extensions import db
from launch.models import EventPoint
from launch.services import tokens
from tests.support.checkin import CODES, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    event = make_event(start_dt=START, unit_codes=CODES)
    event.meeting_id, event.meeting_passcode = "IOC-QNG-2023", "280723"
    db.session.commit()
    return event


def host_page(client, point) -> str:
    resp = client.get(f"/c/points/{point.id}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


# --- item 1: signed in across address changes; a form sent after the session ended comes back -------

def test_a_host_stays_signed_in_when_the_phone_changes_address_or_browser(app, event, users):
    point = point_of(event, "21046")
    wifi = app.test_client()
    wifi.environ_base.update({"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 13)"})
    signed_in = wifi.post("/login", data={"username": "chost", "password": "test-pass-2023", "remember": "y"})
    assert signed_in.status_code == 302
    host_page(wifi, point)
    # Wi-Fi -> 4G: another address; then the browser updates itself: another user agent.
    wifi.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    host_page(wifi, point)
    wifi.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14)"
    host_page(wifi, point)
    resp = wifi.post(f"/c/points/{point.id}/headcount", data={"headcount": "42"})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).headcount == 42


def test_a_form_sent_after_the_session_ended_comes_back_filled_in_after_sign_in(app, event, users):
    point = point_of(event, "21046")
    phone = app.test_client()
    page = f"http://localhost/c/points/{point.id}"
    resp = phone.post(f"/c/points/{point.id}/headcount", data={"headcount": "42"}, headers={"Referer": page})
    # Not a 405 after sign-in: back to the page the form was on ...
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert location.path == "/login" and f"next=/c/points/{point.id}" in location.query.replace("%2F", "/")
    assert db.session.get(EventPoint, point.id).headcount is None  # nothing was saved
    resp = phone.post(resp.headers["Location"], data={"username": "chost", "password": "test-pass-2023"})
    assert urlsplit(resp.headers["Location"]).path == f"/c/points/{point.id}"
    # ... where the form shows what was typed, once.
    html = host_page(phone, point)
    kept = json.loads(re.search(r'<script type="application/json" id="kept-form">(.*?)</script>', html).group(1))
    assert kept["action"] == f"/c/points/{point.id}/headcount" and kept["fields"] == {"headcount": "42"}
    assert 'id="kept-form"' not in host_page(phone, point)


def test_sign_in_returns_to_the_page_of_the_form(app, event, users):
    point = point_of(event, "21046")
    phone = app.test_client()
    resp = phone.post(f"/c/points/{point.id}/problem", data={"kind": "other", "text": "Mất tiếng", "password": "x"},
                      headers={"Referer": f"http://localhost/c/points/{point.id}"})
    next_page = resp.headers["Location"].split("next=")[1].replace("%2F", "/")
    assert next_page == f"/c/points/{point.id}"
    phone.post("/login", data={"username": "chost", "password": "test-pass-2023"})
    html = phone.get(next_page).get_data(as_text=True)
    kept = json.loads(re.search(r'id="kept-form">(.*?)</script>', html).group(1))
    assert kept["fields"] == {"kind": "other", "text": "Mất tiếng"}  # never a password


def test_the_page_of_the_form_is_found_without_a_referer(app, event, users):
    """app.js sends the page the form was on (`_page`): a missing Referer (a proxy, a privacy setting)
    no longer sends the host to the home page; another site's page is never taken."""
    point = point_of(event, "21046")
    phone = app.test_client()
    resp = phone.post(f"/c/points/{point.id}/headcount", data={"headcount": "42", "_page": f"/c/points/{point.id}"})
    assert resp.headers["Location"].split("next=")[1].replace("%2F", "/") == f"/c/points/{point.id}"
    resp = phone.post(f"/c/points/{point.id}/headcount", data={"headcount": "42", "_page": "https://evil.example/x"})
    assert resp.headers["Location"].split("next=")[1].replace("%2F", "/") == "/"  # the home page, not elsewhere
    phone.post("/login", data={"username": "chost", "password": "test-pass-2023"})
    html = phone.get("/").get_data(as_text=True)
    kept = json.loads(re.search(r'id="kept-form">(.*?)</script>', html).group(1))
    assert kept["fields"] == {"headcount": "42"}  # the page field is not kept as a field


def test_a_form_refused_for_its_expired_token_comes_back_filled_in(app, event, users):
    app.config["WTF_CSRF_ENABLED"] = True
    point = point_of(event, "21046")
    phone = app.test_client()
    login_page = phone.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    phone.post("/login", data={"username": "chost", "password": "test-pass-2023", "csrf_token": token})
    with phone.session_transaction() as sess:
        sess.pop("csrf_token", None)  # the session's token is gone (a restarted browser, remember-me)
    resp = phone.post(f"/c/points/{point.id}/headcount", data={"headcount": "37", "csrf_token": "old"},
                      headers={"Referer": f"http://localhost/c/points/{point.id}"})
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == f"/c/points/{point.id}"
    html = host_page(phone, point)
    assert json.loads(re.search(r'id="kept-form">(.*?)</script>', html).group(1))["fields"] == {"headcount": "37"}


# --- items 2, 3: hashed, immutable, precompressed static files; a service worker per deployment -----

def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_pages_name_static_files_by_content_cached_a_year_and_precompressed(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    urls = static_urls(host.get(f"/c/points/{point.id}/scan").get_data(as_text=True))
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.(js|css|wasm)$", u) for u in urls), urls
    anonymous = app.test_client()
    for url in urls:
        resp = anonymous.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "max-age=315360000, public, immutable", url
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        if len(resp.data) > 1024:
            assert resp.headers.get("Content-Encoding") == "br" and "Accept-Encoding" in resp.headers["Vary"], url
    wasm = next(u for u in urls if u.endswith(".wasm"))
    brotli = anonymous.get(wasm, headers={"Accept-Encoding": "br"})
    gzip = anonymous.get(wasm, headers={"Accept-Encoding": "gzip"})
    plain = anonymous.get(wasm)
    assert plain.mimetype == "application/wasm" and len(plain.data) > 1_000_000
    assert len(brotli.data) < 400_000 and len(gzip.data) < 480_000
    # An address without a hash still works, but is checked again every time.
    unhashed = anonymous.get("/static/js/scanner.js")
    assert unhashed.status_code == 200 and unhashed.headers["Cache-Control"] == "max-age=0, public"


def test_a_changed_file_gets_a_new_name_and_the_old_one_stays(tmp_path):
    source, build = tmp_path / "static", tmp_path / "build"
    (source / "js").mkdir(parents=True)
    (source / "js" / "scanner.js").write_text("var v = 1;" * 200)
    assets = Assets(source, build)
    first = assets.build_all()["js/scanner.js"]
    assert re.fullmatch(r"js/scanner\.[0-9a-f]{12}\.js", first)
    assert (build / first).exists() and (build / (first + ".br")).exists() and (build / (first + ".gz")).exists()
    (source / "js" / "scanner.js").write_text("var v = 2;" * 200)
    second = Assets(source, build).build_all()["js/scanner.js"]
    assert second != first and (build / second).exists() and (build / first).exists()
    assert hashed_name("vendor/x/lib.min.js", "0123456789ab") == "vendor/x/lib.min.0123456789ab.js"


def test_the_service_worker_is_new_with_each_deployment_and_keeps_the_scanner(app, monkeypatch):
    from launch.assets import assets_of

    client = app.test_client()
    resp = client.get("/c/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Cache-Control"] == "no-cache"
    body = resp.get_data(as_text=True)
    assets = assets_of(app)
    for name in ("js/scanner.js", "js/offline.js", "vendor/zxing-wasm-3.1.3/zxing_reader.wasm"):
        assert f"/static/{assets.names[name]}" in body, name
    monkeypatch.setitem(assets.names, "js/scanner.js", "js/scanner.ffffffffffff.js")  # a new deployment
    again = client.get("/c/sw.js").get_data(as_text=True)
    assert again != body and "/static/js/scanner.ffffffffffff.js" in again


# --- items 12, 13: the point's own VC details; expected people that do not lie ------------------------

def test_the_host_page_shows_the_points_own_vc_details(app, event, users, as_user):
    point = point_of(event, "21046")
    point.vc_endpoint = "BinhThanh-PhongHop-01"
    db.session.commit()
    html = host_page(as_user("commune_host"), point)
    assert re.search(r'id="vc-endpoint">BinhThanh-PhongHop-01<', html)
    assert re.search(r'id="vc-meeting-id">IOC-QNG-2023<', html)
    assert re.search(r'id="vc-passcode">280723<', html)
    assert 'id="vc-link" href="https://meet.example.invalid/qn-cds"' in html
    # The unit's endpoint when the event sets none for the point.
    other = point_of(event, "524")
    other.vc_endpoint, other.unit.vc_endpoint = None, "BinhSon-Hall"
    db.session.commit()
    assert re.search(r'id="vc-endpoint">BinhSon-Hall<', host_page(as_user("district_host"), other))


def expected_shown(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<strong id="expected">(.*?)</strong>', html, re.S).group(1)).strip()


def test_expected_people_is_the_roster_size_or_unknown_never_zero(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    point.expected_attendance = 0
    db.session.commit()
    assert expected_shown(host_page(host, point)) == "—"  # unknown, not "0"
    point.expected_attendance = 25
    db.session.commit()
    assert expected_shown(host_page(host, point)) == "25"
    for name in ("Trần Thị Bình", "Lê Văn Cường", "Phạm Minh Châu"):
        add_attendee(event, "21046", name)
    assert expected_shown(host_page(host, point)) == "3"  # the roster, when there is one


# --- item 7: the roster kept on the phone names badges and marks who is checked in -------------------

def test_the_roster_kept_on_the_phone_names_badges_and_marks_check_ins(app, event, users, as_user):
    from launch.services import checkin

    point = point_of(event, "21046")
    binh = add_attendee(event, "21046", "Trần Thị Bình")
    cuong = add_attendee(event, "21046", "Lê Văn Cường")
    checkin.check_in_attendee(point, users["commune_host"], client_id="scan-000001", attendee_id=binh.id)
    answer = as_user("commune_host").get(f"/api/v1/points/{point.id}/roster").get_json()
    people = {p["name"]: p for p in answer["attendees"]}
    assert people["Lê Văn Cường"]["badge"] == hashlib.sha256(tokens.badge_token(cuong).encode()).hexdigest()[:20]
    assert people["Trần Thị Bình"]["here"] is True and people["Trần Thị Bình"]["checked_in_dt"]
    assert people["Lê Văn Cường"]["checked_in_dt"] is None
    assert answer["csrf_token"]  # a page reopened from the phone's copy gets a current token


def test_a_background_fetch_while_signed_out_writes_no_session(app, event, users):
    """The service worker keeping the host page while signed out must not write a session: its cookie,
    arriving last, replaced the sign-in page's and refused its form (the token did not match)."""
    point = point_of(event, "21046")
    phone = app.test_client()
    resp = phone.get(f"/c/points/{point.id}", headers={"Sec-Fetch-Mode": "cors"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert "Set-Cookie" not in resp.headers
    opened = app.test_client().get(f"/c/points/{point.id}", headers={"Sec-Fetch-Mode": "navigate"})
    assert "Set-Cookie" in opened.headers  # a page the user opened says "please sign in"


def test_a_sign_in_form_refused_for_its_token_comes_back_with_its_next(app, event, users):
    app.config["WTF_CSRF_ENABLED"] = True
    phone = app.test_client()
    page = "http://localhost/login?next=%2Fc%2Fpoints%2F7"
    resp = phone.post("/login?next=%2Fc%2Fpoints%2F7", data={"username": "chost", "password": "test-pass-2023",
                                                           "csrf_token": "stale"}, headers={"Referer": page})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=%2Fc%2Fpoints%2F7"
