"""A national launch's wall in a real browser: 35 tiles (the national IOC and a tile per province),
a check-in turns its province's count live, and a province's tile opens that province's points."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from launch.clock import utcnow
from launch.extensions import db
from launch.realtime import publisher
from tests.system.browser.test_wall_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def national(live_app):
    """Today's whole map, an operator, and a launch of every point, under way."""
    from sqlalchemy import select

    from launch.models import EventPoint, Unit
    from launch.services import directory, events
    from launch.services.users import create_user

    with live_app.app_context():
        directory.import_current_map()
        create_user("op", "test-pass-2023", "operator", display_name="Cán bộ IOC")
        now = utcnow()
        event = events.create_event({"title": "Lễ phát động toàn quốc", "start": now + timedelta(hours=1),
                                     "end": now + timedelta(hours=3)}, now=now)
        event.state, event.start_dt = "live", now - timedelta(minutes=5)
        db.session.commit()
        qn = db.session.scalar(select(Unit).where(Unit.edition == "2025", Unit.level == "province",
                                                  Unit.code == "51"))
        commune = db.session.scalar(select(EventPoint.id).where(EventPoint.event_id == event.id,
                                                                EventPoint.unit_code == "21211"))
        return {"event_id": event.id, "qn": qn.id, "commune": commune}


def test_the_national_wall_drills_into_a_province(page, live_server, live_app, national, artifacts_dir):
    base, event_id = live_server.url, national["event_id"]
    sign_in(page, base)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{base}/wall/{event_id}")
    expect(page.locator("#tiles .tile")).to_have_count(35, timeout=20000)
    expect(page.locator("#tiles .gtile")).to_have_count(34)
    expect(page.locator("#wall-conn")).to_have_attribute("data-conn", "live")
    expect(page.locator("#c-invited")).to_have_text("3355")
    province = page.locator(f"#group-{national['qn']}")
    expect(province.locator(".gtile-main strong")).to_have_text("0/97")

    with live_app.app_context():
        from launch.models import EventPoint

        point = db.session.get(EventPoint, national["commune"])
        point.checked_in_dt, point.checkin_method = utcnow(), "manual"
        db.session.commit()
        publisher.announce(event_id, "site_checkin", point.id)
    expect(province.locator(".gtile-main strong")).to_have_text("1/97", timeout=10000)
    expect(page.locator("#c-checked")).to_have_text("1")
    page.screenshot(path=str(artifacts_dir / "wall-national.png"), full_page=True)

    province.click()
    page.wait_for_url(re.compile(rf"/wall/{event_id}/district/{national['qn']}$"))
    expect(page.locator("#tiles .tile")).to_have_count(97, timeout=15000)
    expect(page.locator(f"#tile-{national['commune']}")).to_have_attribute("data-status", "checked_in")
    expect(page.locator("#c-invited")).to_have_text("97")
