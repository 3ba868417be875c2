"""Event day on a commune host's phone (issue 14), in Debian's Chromium at 360x640: staying signed in,
a form that survives an ended session, a scanner that says what really failed, a service worker that
takes each deployment on the next visit, the scanner opening offline after one host-page visit, a
compact layout (axe-core: no serious violation), a badge held in view sent once, names offline, and
rapid mode."""
from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from launch import create_app
from launch.extensions import db
from launch.models import AttendeeCheckin, EventPoint
from tests.support.services import CHROMIUM
from tests.system.browser.conftest import BASE_ARGS, write_y4m
from tests.system.browser.support import (
    AXE,
    PHONE,
    axe_serious,
    host_world,
    recording_live_app,  # noqa: F401 - the module's live_app fixture
    roster_on_phone,
    sign_in,
)

pytestmark = pytest.mark.browser

CHECKIN_API = re.compile(r"^/api/v1/points/\d+/attendee-checkins$")
#: Fixed badge codes, so one camera file (made before the browser starts) shows the right badges.
BADGE_CODES = {"cuong": "c0ffee00c0ffee00c0ff", "binh": "b1b1b1b1b1b1b1b1b1b1"}
LAYOUT: dict = {}


@pytest.fixture
def setup(live_app) -> dict:
    from launch.models import Attendee
    from launch.services.tokens import badge_token

    world = host_world(live_app)
    with live_app.app_context():
        for key, code in BADGE_CODES.items():
            person = db.session.get(Attendee, world[key])
            person.badge_code = code
            world[f"{key}_badge"] = badge_token(person)
        db.session.commit()
    return world


def checkins(live_app, attendee_id: int | None = None) -> int:
    with live_app.app_context():
        stmt = select(func.count()).select_from(AttendeeCheckin)
        if attendee_id is not None:
            stmt = stmt.where(AttendeeCheckin.attendee_id == attendee_id)
        return db.session.scalar(stmt)


def posts(live_app) -> int:
    return sum(1 for p in live_app.seen_paths if CHECKIN_API.match(p))


BUZZ = """Object.defineProperty(navigator, "vibrate", {value: function (p) {
  (window.__buzz = window.__buzz || []).push(JSON.stringify(p)); return true; }});"""


@pytest.fixture(scope="module")
def badge_browser(browser_type, tmp_path_factory):
    """Chromium whose camera shows Lê Văn Cường's badge, then Trần Thị Bình's (frames alternate)."""
    from PIL import Image

    from launch.services.qr import pil_image
    from launch.services.tokens import BADGE_PREFIX, BADGE_SALT
    from tests.system.browser.support import recording_app as _app

    tmp = tmp_path_factory.mktemp("badges")
    app = _app(tmp)  # only for the secret key: the same testing key as every live app here
    with app.app_context():
        from itsdangerous import URLSafeSerializer

        sign = URLSafeSerializer(app.config["SECRET_KEY"], salt=BADGE_SALT)
        tokens = {k: BADGE_PREFIX + sign.dumps([1, code]) for k, code in BADGE_CODES.items()}
    cuong = tmp / "cuong.y4m"
    write_y4m(cuong, pil_image(tokens["cuong"], box_size=8))
    both = tmp / "both.y4m"
    write_alternating(both, [pil_image(tokens["cuong"], box_size=8), pil_image(tokens["binh"], box_size=8)],
                      Image)
    browsers = {}

    def launch(camera: str):
        if camera not in browsers:
            path = {"cuong": cuong, "both": both}[camera]
            browsers[camera] = browser_type.launch(executable_path=CHROMIUM, args=BASE_ARGS + [
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={path}"])
        context = browsers[camera].new_context(permissions=["camera"], viewport=PHONE)
        context.add_init_script(BUZZ)
        return context

    yield launch
    for browser in browsers.values():
        browser.close()


def write_alternating(path: Path, images: list, image_module) -> None:
    """A camera file whose frames show each image in turn (5 frames = half a second each)."""
    frames = []
    for image in images:
        canvas = image_module.new("RGB", (640, 480), "white")
        img = image.convert("RGB")
        img.thumbnail((440, 440))
        canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
        y, u, v = canvas.convert("YCbCr").split()
        frames.append(y.tobytes() + u.resize((320, 240)).tobytes() + v.resize((320, 240)).tobytes())
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for frame in frames:
            for _ in range(5):
                fh.write(b"FRAME\n" + frame)


def open_scanner(page, base: str, point_id: int) -> None:
    sign_in(page, base)
    page.goto(f"{base}/c/points/{point_id}/scan")
    page.wait_for_selector("#scanner[data-ready='1']")
    roster_on_phone(page, point_id)


# --- item 1 -----------------------------------------------------------------------------------------

def test_a_headcount_typed_when_the_session_had_ended_comes_back_after_sign_in(page, live_server, live_app, setup):
    base = live_server.url
    sign_in(page, base)
    page.goto(f"{base}/c/points/{setup['point_id']}")
    page.context.clear_cookies()  # the session ended while the page was open
    page.fill("#headcount", "42")
    page.click("form.headcount button[type=submit]")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("input[name=username]", "chost")
    page.fill("input[name=password]", "test-pass-2023")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf".*/c/points/{setup['point_id']}$"))  # not a 405 page
    expect(page.locator("#headcount")).to_have_value("42")
    expect(page.locator("form.headcount")).to_have_attribute("data-kept", "1")
    expect(page.locator("form.headcount .kept-note")).to_be_visible()
    page.click("form.headcount button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()
    with live_app.app_context():
        assert db.session.get(EventPoint, setup["point_id"]).headcount == 42


# --- item 2 -----------------------------------------------------------------------------------------

def test_a_scanner_download_that_fails_is_not_blamed_on_the_camera(browser, live_server, live_app, setup):
    # No service worker: its own download of the library would go around the page's route.
    page = browser.new_context(service_workers="block").new_page()
    page.route(re.compile(r".*/zxing_reader\.[0-9a-f]{12}\.wasm$"), lambda route: route.abort("internetdisconnected"))
    open_scanner(page, live_server.url, setup["point_id"])
    page.click("#camera-start")
    scanner = page.locator("#scanner")
    expect(scanner).to_have_attribute("data-camera", "failed", timeout=30_000)
    expect(scanner).to_have_attribute("data-camera-error", "download")
    status = page.locator("#camera-status")
    expect(status).to_contain_text("could not be downloaded")
    expect(status).not_to_contain_text("camera could not start")
    expect(status).not_to_contain_text("[object")
    expect(page.locator("#camera-start")).to_be_visible()  # try again
    expect(page.locator("#video")).to_be_hidden()
    page.unroute(re.compile(r".*/zxing_reader\.[0-9a-f]{12}\.wasm$"))
    page.click("#camera-start")
    expect(scanner).to_have_attribute("data-camera", "on", timeout=30_000)
    page.context.close()


# --- item 3 -----------------------------------------------------------------------------------------

class Switch:
    """A WSGI app that forwards to whichever app is current: a deployment, on the same address."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def test_a_new_deployment_runs_on_the_next_visit_online_and_offline(page, context, live_app, setup, tmp_path):
    switch = Switch(live_app)
    server = make_server("127.0.0.1", 0, switch, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        sign_in(page, base)
        scanner = f"{base}/c/points/{setup['point_id']}/scan"
        page.goto(scanner)
        page.wait_for_selector("#scanner[data-ready='1']")
        page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        page.wait_for_selector("#scanner[data-ready='1']")
        assert page.evaluate("() => document.documentElement.dataset.build") is None

        # Deploy: scanner.js changed (it marks the page), same database and secret.
        static = tmp_path / "static-v2"
        shutil.copytree(live_app.static_folder, static)
        with (static / "js" / "scanner.js").open("a") as fh:
            fh.write('\ndocument.documentElement.dataset.build = "v2";\n')
        switch.app = create_app("testing", SQLALCHEMY_DATABASE_URI=live_app.config["SQLALCHEMY_DATABASE_URI"],
                                PUBLIC_BASE_URL="http://127.0.0.1", WTF_CSRF_ENABLED=True,
                                STATIC_FOLDER=str(static), STATIC_BUILD_DIR=str(tmp_path / "build-v2"))
        page.reload()  # the next visit runs the new code
        page.wait_for_selector("#scanner[data-ready='1']")
        expect(page.locator("html")).to_have_attribute("data-build", "v2")
        # The new worker took over and the copy kept for offline use is the new one too.
        page.wait_for_function("navigator.serviceWorker.controller && navigator.serviceWorker.controller.state"
                               " === 'activated'")
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#scanner[data-ready='1']")
        expect(page.locator("html")).to_have_attribute("data-build", "v2")
    finally:
        context.set_offline(False)
        server.shutdown()


# --- item 4 -----------------------------------------------------------------------------------------

def test_one_online_visit_to_the_host_page_lets_the_scanner_open_offline(page, context, live_server, live_app,
                                                                         setup):
    base = live_server.url
    sign_in(page, base)
    page.goto(f"{base}/c/points/{setup['point_id']}")
    expect(page.locator("#offline-state")).to_have_attribute("data-offline", "ready", timeout=30_000)
    expect(page.locator("#offline-state")).to_contain_text("the scanner opens even without network")
    context.set_offline(True)
    page.goto(f"{base}/c/points/{setup['point_id']}/scan")  # never opened before
    page.wait_for_selector("#scanner[data-ready='1']")
    expect(page.locator("#net")).to_have_attribute("data-online", "0")
    page.fill("#search", "cuong")  # the roster the host page kept
    expect(page.locator(f"#matches button[data-attendee='{setup['cuong']}']")).to_be_visible()
    page.click("#camera-start")  # the library the service worker kept
    expect(page.locator("#scanner")).to_have_attribute("data-camera", "on", timeout=30_000)
    page.click(f"#matches button[data-attendee='{setup['cuong']}']")
    expect(page.locator("#log li[data-status='pending']")).to_contain_text("Lê Văn Cường")
    context.set_offline(False)
    expect(page.locator("#log li[data-status='ok']")).to_have_count(1)
    assert checkins(live_app, setup["cuong"]) == 1


# --- item 5 -----------------------------------------------------------------------------------------

def visible_in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_every_host_page_fits_a_small_phone_with_its_main_action_in_view(browser, live_server, live_app, setup,
                                                                         artifacts_dir):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    base = live_server.url
    try:
        sign_in(page, base, english=False)  # Vietnamese: the longer words
        pages = [("login", None, "/login"), ("qr_checkin", "#site-checkin", f"/c/{setup['token']}"),
                 ("host", "#scan-link", f"/c/points/{setup['point_id']}"),
                 ("scanner", "#camera-start", f"/c/points/{setup['point_id']}/scan"),
                 ("my_points", None, "/c/")]
        report = {}
        for name, action, path in pages:
            if name == "login":
                page.context.clear_cookies()
            elif name == "qr_checkin" and "/login" in page.url:
                sign_in(page, base, english=False)
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(artifacts_dir / f"phone-{name}.png"))
            header = page.locator("header.topbar").bounding_box()
            serious = axe_serious(page)
            report[name] = {"header_px": round(header["height"]), "no_horizontal_scroll": no_horizontal_scroll(page),
                            "axe_serious": serious}
            assert no_horizontal_scroll(page), name
            assert header["height"] <= 64, (name, header)
            assert serious == [], (name, serious)
            if action:
                assert visible_in_first_screen(page, action), (name, page.locator(action).bounding_box())
            if name == "host":
                assert visible_in_first_screen(page, "#headcount"), name
            if name == "login":
                sign_in(page, base, english=False)
        # The menu: behind one button, which opens it.
        nav = page.locator("#topmenu")
        expect(nav).to_be_hidden()
        page.click("#menu-button")
        expect(nav).to_be_visible()
        expect(page.locator("#menu-button")).to_have_attribute("aria-expanded", "true")
        page.screenshot(path=str(artifacts_dir / "phone-menu-open.png"))
        # `hidden` hides: no black box before the camera, no start button once it runs.
        page.goto(f"{base}/c/points/{setup['point_id']}/scan")
        page.wait_for_selector("#scanner[data-ready='1']")
        expect(page.locator("#video")).to_be_hidden()
        page.click("#camera-start")
        expect(page.locator("#scanner")).to_have_attribute("data-camera", "on", timeout=30_000)
        expect(page.locator("#camera-start")).to_be_hidden()
        expect(page.locator("#video")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / "phone-scanner-camera.png"))
        LAYOUT.update(report)
    finally:
        context.close()
    path = artifacts_dir / "weak-network.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old["phone_360x640"] = LAYOUT
    path.write_text(json.dumps(old, indent=2, ensure_ascii=False) + "\n")


# --- items 6, 7, 9 --------------------------------------------------------------------------------------

def test_a_badge_held_in_view_is_sent_once_and_a_repeat_is_calm(badge_browser, live_server, live_app, setup):
    from launch.models import User
    from launch.services import checkin

    with live_app.app_context():  # Bình was checked in here earlier (the phone's roster knows it)
        host = db.session.scalar(select(User).where(User.username == "chost"))
        checkin.check_in_attendee(db.session.get(EventPoint, setup["point_id"]), host, client_id="earlier-001",
                                  attendee_id=setup["binh"])
    context = badge_browser("both")
    page = context.new_page()
    try:
        open_scanner(page, live_server.url, setup["point_id"])
        page.click("#camera-start")
        expect(page.locator("#log li[data-status='ok']")).to_contain_text("Lê Văn Cường", timeout=20_000)
        page.wait_for_function("() => (window.__buzz || []).includes('30')", timeout=20_000)  # Bình: the soft tick
        page.wait_for_timeout(6000)  # both badges stay in view, well past the old 4 s re-send
        assert posts(live_app) == 1  # Cường's only; Bình's repeat never left the phone
        assert checkins(live_app) == 2
        buzz = page.evaluate("() => window.__buzz")
        assert buzz.count("120") == 1 and "[90,60,90]" not in buzz, buzz  # one success, no alarm
        expect(page.locator("#log li[data-status='already']")).to_have_count(0)
    finally:
        context.close()


def test_a_badge_scanned_offline_shows_its_name_and_syncs_once(badge_browser, live_server, live_app, setup):
    context = badge_browser("cuong")
    page = context.new_page()
    try:
        open_scanner(page, live_server.url, setup["point_id"])
        page.wait_for_function("() => document.getElementById('scanner').dataset.library === undefined")
        context.set_offline(True)
        page.click("#camera-start")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-code", "queued", timeout=20_000)
        expect(result).to_contain_text("Lê Văn Cường")
        expect(page.locator("#log li[data-status='pending']")).to_contain_text("Lê Văn Cường")
        assert checkins(live_app) == 0
        context.set_offline(False)
        expect(page.locator("#log li[data-status='ok']")).to_contain_text("Lê Văn Cường", timeout=20_000)
        page.wait_for_timeout(1000)
        assert checkins(live_app, setup["cuong"]) == 1 and posts(live_app) == 1
    finally:
        context.close()


def test_rapid_mode_shows_the_answer_full_screen_then_clears_it(badge_browser, live_server, live_app, setup,
                                                               artifacts_dir):
    context = badge_browser("cuong")
    page = context.new_page()
    try:
        open_scanner(page, live_server.url, setup["point_id"])
        page.check("#rapid")
        page.click("#camera-start")
        result = page.locator("#result")
        expect(result).to_have_class(re.compile(r"\brapid\b.*|.*\brapid\b"), timeout=20_000)
        expect(result).to_have_attribute("data-code", "checked_in")
        expect(result).to_contain_text("Lê Văn Cường")
        size = page.evaluate("() => { const r = document.getElementById('result'); return [getComputedStyle(r)"
                             ".position, r.offsetWidth, r.offsetHeight]; }")  # layout size (not the pop animation)
        assert size == ["fixed", PHONE["width"], PHONE["height"]], size  # full screen
        page.screenshot(path=str(artifacts_dir / "phone-rapid.png"))
        expect(result).to_be_hidden(timeout=10_000)  # cleared by itself, ready for the next badge
        page.reload()
        page.wait_for_selector("#scanner[data-ready='1']")
        expect(page.locator("#rapid")).to_be_checked()  # the phone remembers the mode
    finally:
        context.close()
