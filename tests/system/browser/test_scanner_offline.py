"""The badge scanner in a real browser: scans made offline wait on the phone, are sent once when
the network is back, a lost answer is retried without double counting, and the camera decodes a
badge held in front of it."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from launch import create_app
from launch.extensions import db
from launch.models import Attendee, AttendeeCheckin
from tests.support.factories import make_event, point_of
from tests.support.services import CHROMIUM
from tests.system.browser.conftest import BASE_ARGS, write_y4m
from tests.system.browser.support import roster_on_phone

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(tmp_path) -> Iterator:
    """Like the shared live app, but with CSRF on: the scanner must send the X-CSRFToken header."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/live.db",
                     PUBLIC_BASE_URL="http://127.0.0.1", WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def setup(live_app) -> dict:
    """The directory, an event starting in 30 minutes, the Bình Thạnh host and two people on the roster."""
    from launch.services.directory import import_bundled_directory
    from launch.services.roster import import_roster
    from launch.services.tokens import badge_token
    from launch.services.users import create_user

    with live_app.app_context():
        import_bundled_directory()
        create_user("chost", "test-pass-2023", "host", unit_codes=["21046"], display_name="Chủ tịch xã")
        event = make_event(unit_codes=["524", "21046"])
        import_roster(event, "name,unit,position\nTrần Thị Bình,21046,Công chức\nLê Văn Cường,21046,Trưởng thôn\n")
        binh = db.session.scalar(select(Attendee).where(Attendee.search_name == "tran thi binh"))
        cuong = db.session.scalar(select(Attendee).where(Attendee.search_name == "le van cuong"))
        return {"event_id": event.id, "point_id": point_of(event, "21046").id, "binh": binh.id, "cuong": cuong.id,
                "cuong_badge": badge_token(cuong)}


def rows(live_app, attendee_id: int | None = None) -> int:
    with live_app.app_context():
        stmt = select(func.count()).select_from(AttendeeCheckin)
        if attendee_id is not None:
            stmt = stmt.where(AttendeeCheckin.attendee_id == attendee_id)
        return db.session.scalar(stmt)


def open_scanner(page, base: str, point_id: int) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", "chost")
    page.fill("input[name=password]", "test-pass-2023")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    page.goto(base + "/lang/en")  # after signing in, which starts a fresh session
    page.goto(f"{base}/c/points/{point_id}/scan")
    page.wait_for_selector("#scanner[data-ready='1']")
    roster_on_phone(page, point_id)


def test_offline_manual_scan_waits_then_syncs_once(page, context, live_server, live_app, setup, artifacts_dir):
    open_scanner(page, live_server.url, setup["point_id"])
    context.set_offline(True)
    expect(page.locator("#net")).to_have_attribute("data-online", "0")
    page.fill("#search", "tran thi binh")  # no diacritics, the roster is on the phone
    page.click(f"#matches button[data-attendee='{setup['binh']}']")
    pending = page.locator("#log li[data-status='pending']")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("waiting to sync")
    expect(page.locator("#pending-count")).to_have_attribute("data-pending", "1")
    expect(page.locator("#result")).to_have_attribute("data-code", "queued")
    assert rows(live_app) == 0
    page.screenshot(path=str(artifacts_dir / "scanner-offline.png"))

    context.set_offline(False)
    expect(page.locator("#log li[data-status='ok']")).to_have_count(1)
    expect(page.locator("#pending-count")).to_have_attribute("data-pending", "0")
    expect(page.locator("#result")).to_have_attribute("data-code", "checked_in")
    assert rows(live_app, setup["binh"]) == 1
    # Reopening the page sends nothing again.
    page.reload()
    page.wait_for_selector("#scanner[data-ready='1']")
    expect(page.locator("#pending-count")).to_have_attribute("data-pending", "0")
    assert rows(live_app) == 1

    # Searching the same person again: marked as checked in, not offered again.
    page.fill("#search", "binh")
    done = page.locator("#matches li[data-checked-in='1']")
    expect(done).to_contain_text("Trần Thị Bình")
    expect(done).to_contain_text("Checked in")
    expect(page.locator(f"#matches button[data-attendee='{setup['binh']}']")).to_have_count(0)
    assert rows(live_app) == 1


def test_lost_answer_is_retried_and_recorded_once(page, live_server, live_app, setup):
    open_scanner(page, live_server.url, setup["point_id"])
    url = f"**/api/v1/points/{setup['point_id']}/attendee-checkins"
    seen: list[str] = []

    def lose_answer(route):
        request = route.request
        seen.append(request.post_data_json["client_id"])
        # The server records the scan (same cookies, same CSRF header) ...
        page.request.post(request.url, data=request.post_data, headers={
            "Content-Type": "application/json", "X-CSRFToken": request.headers["x-csrftoken"]})
        route.abort("connectionreset")  # ... but the phone never hears back

    page.route(url, lose_answer)
    page.fill("#search", "cuong")
    with page.expect_event("requestfailed"):
        page.click(f"#matches button[data-attendee='{setup['cuong']}']")
    expect(page.locator("#log li[data-status='pending']")).to_have_count(1)
    expect(page.locator("#result")).to_have_attribute("data-code", "queued")
    assert rows(live_app, setup["cuong"]) == 1
    page.unroute(url)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # what the phone does when the network is back
    expect(page.locator("#log li[data-status='ok']")).to_have_count(1)
    assert len(set(seen)) == 1  # the retry carried the same client id
    assert rows(live_app) == 1


def test_camera_decodes_a_badge(browser_type, live_server, live_app, setup, tmp_path, artifacts_dir):
    from launch.services.qr import pil_image

    camera = tmp_path / "badge.y4m"
    write_y4m(camera, pil_image(setup["cuong_badge"], box_size=8))
    browser = browser_type.launch(executable_path=CHROMIUM, args=BASE_ARGS + [
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}"])
    try:
        context = browser.new_context(permissions=["camera"])
        page = context.new_page()
        open_scanner(page, live_server.url, setup["point_id"])
        page.click("#camera-start")
        expect(page.locator("#scanner")).to_have_attribute("data-camera", "on", timeout=20_000)
        expect(page.locator("#result")).to_have_attribute("data-code", "checked_in", timeout=20_000)
        page.screenshot(path=str(artifacts_dir / "scanner-camera.png"))
        assert rows(live_app, setup["cuong"]) == 1
        with live_app.app_context():
            method = db.session.scalar(select(AttendeeCheckin.method))
        assert method == "scan"
    finally:
        browser.close()

