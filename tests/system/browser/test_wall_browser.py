"""The live wall in a real browser: 187 tiles, a check-in through the API turns a tile, a gap resyncs."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from launch.clock import utcnow
from launch.extensions import db
from launch.realtime import publisher, sequence
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.browser

BINH_THANH, BINH_SON, TRA_BONG = "21046", "524", "525"


@pytest.fixture
def wall_setup(live_app):
    """The directory, a 187-point event, an operator and an API token for the check-in API."""
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user

    with live_app.app_context():
        import_bundled_directory()
        operator = create_user("op", "test-pass-2023", "operator", display_name="Cán bộ IOC")
        event = make_event()
        points = {code: point_of(event, code).id for code in (BINH_THANH, BINH_SON, TRA_BONG)}
        secret = None
        try:
            from launch.services.api_tokens import create_api_token

            _token, secret = create_api_token(operator, "wall browser test")
        except ImportError:
            pass
        return {"event_id": event.id, "points": points, "api_secret": secret}


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/lang/en")
    page.goto(base_url + "/login")
    page.fill("input[name=username]", "op")
    page.fill("input[name=password]", "test-pass-2023")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def check_in(live_app, base_url: str, setup: dict, code: str) -> None:
    """Through the check-in API when it is there; else as the service would (commit, then announce)."""
    with live_app.app_context():
        from launch.models import EventPoint

        point = db.session.get(EventPoint, setup["points"][code])
        if setup["api_secret"]:
            from launch.services.tokens import site_token

            token = site_token(point)
            resp = requests.post(base_url + "/api/v1/site-checkins", json={"token": token},
                                 headers={"Authorization": f"Bearer {setup['api_secret']}"}, timeout=10)
            assert resp.status_code == 200, resp.text
            return
        point.checked_in_dt = utcnow()
        point.checkin_method = "manual"
        db.session.commit()
        publisher.announce(point.event_id, "site_checkin", point.id)


def test_wall_shows_a_check_in_live(page, live_server, live_app, wall_setup, artifacts_dir):
    base = live_server.url
    event_id = wall_setup["event_id"]
    sign_in(page, base)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{base}/wall/{event_id}")
    tiles = page.locator("#tiles .tile")
    expect(tiles).to_have_count(187, timeout=15000)
    expect(page.locator("#wall-conn")).to_have_attribute("data-conn", "live")
    expect(page.locator("#c-invited")).to_have_text("186")
    expect(page.locator("#c-checked")).to_have_text("0")
    target = page.locator(f"#tile-{wall_setup['points'][BINH_THANH]}")
    expect(target).to_have_attribute("data-status", "invited")
    expect(target.locator(".tile-status strong")).to_have_text("Not connected")

    check_in(live_app, base, wall_setup, BINH_THANH)
    expect(target).to_have_attribute("data-status", "checked_in", timeout=10000)
    expect(target.locator(".tile-status strong")).to_have_text("Checked in")
    expect(page.locator("#c-checked")).to_have_text("1")
    expect(page.locator("#feed li").first).to_contain_text("checked in")
    # a delta's feed row names its point by id only: the page shows the name from the tile
    expect(page.locator("#feed li").first).to_contain_text("Xã Bình Thạnh")

    # A lost delta: its number is used up and another point changed without any message.
    seq_before = int(page.locator("#wall").get_attribute("data-seq"))
    with live_app.app_context():
        from launch.models import EventPoint

        sequence.next_seq(f"wall:{event_id}")
        silent = db.session.get(EventPoint, wall_setup["points"][TRA_BONG])
        silent.checked_in_dt = utcnow()
        db.session.commit()
    check_in(live_app, base, wall_setup, BINH_SON)
    # The client sees seq+2, waits for seq+1, then resynchronises from a snapshot: both points show.
    expect(page.locator(f"#tile-{wall_setup['points'][TRA_BONG]}")).to_have_attribute(
        "data-status", "checked_in", timeout=10000)
    expect(page.locator(f"#tile-{wall_setup['points'][BINH_SON]}")).to_have_attribute("data-status", "checked_in")
    expect(page.locator("#c-checked")).to_have_text("3")
    expect(page.locator("#wall")).to_have_attribute("data-seq", str(seq_before + 2))

    # The LAST delta lost (nothing after it to show a gap): the server's tick carries the room's
    # number, the client sees it is behind and resynchronises.
    with live_app.app_context():
        from launch.models import EventPoint

        sequence.next_seq(f"wall:{event_id}")
        last = db.session.get(EventPoint, wall_setup["points"][BINH_THANH])
        last.headcount = 42
        db.session.commit()
        publisher.tick(live_app)
    expect(page.locator("#wall")).to_have_attribute("data-seq", str(seq_before + 3), timeout=10000)
    expect(page.locator(f"#tile-{wall_setup['points'][BINH_THANH]}")).to_contain_text("42")

    # Filters: by state
    page.select_option("#f-state", "checked_in")
    expect(page.locator("#tiles .tile:visible")).to_have_count(3)
    page.select_option("#f-state", "")
    expect(page.locator("#tiles .tile:visible")).to_have_count(187)

    page.screenshot(path=str(artifacts_dir / "wall-187-points.png"), full_page=True)
    page.goto(f"{base}/wall/{event_id}/projector")
    expect(page.locator("#tiles .tile")).to_have_count(187, timeout=15000)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(artifacts_dir / "wall-187-points-projector.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/wall/{event_id}")
    expect(page.locator("#tiles .tile")).to_have_count(187, timeout=15000)
    page.screenshot(path=str(artifacts_dir / "wall-phone.png"))


def test_report_chart_renders(page, live_server, live_app, wall_setup, artifacts_dir):
    base = live_server.url
    check_in(live_app, base, wall_setup, BINH_THANH)
    sign_in(page, base)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/wall/{wall_setup['event_id']}/report")
    expect(page.locator("#report-points tbody tr")).to_have_count(187)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('timeline-chart'))")
    assert errors == []
    page.screenshot(path=str(artifacts_dir / "attendance-report.png"), full_page=True)
