"""The event page in Chromium: a long meeting link wraps in its own cell, never over the meeting ID."""
from __future__ import annotations

import pytest

from tests.system.browser.test_wall_browser import sign_in

pytestmark = pytest.mark.browser

LONG_URL = ("https://us06web.zoom.us/j/84512345678?pwd=bXlMZWdhY3lQYXNzd29yZEZvclRoZUxhdW5jaE9mVGhlRGlnaXRhbFRyYW5z"
            "Zm9ybWF0aW9uQ2FtcGFpZ24yMDIz")


@pytest.fixture
def event_id(live_app):
    from launch.extensions import db
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user
    from tests.support.factories import make_event

    with live_app.app_context():
        import_bundled_directory()
        create_user("op", "test-pass-2023", "operator")
        event = make_event(unit_codes=["21046"])
        event.meeting_url, event.meeting_id, event.meeting_passcode = LONG_URL, "845 1234 5678", "qn2023"
        db.session.commit()
        return event.id


@pytest.mark.parametrize("width", [1366, 800, 390])
def test_meeting_link_does_not_overlap_the_meeting_id(page, live_server, event_id, artifacts_dir, width):
    sign_in(page, live_server.url)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/events/{event_id}")
    boxes = page.evaluate("""() => [...document.querySelectorAll('.details dd')].map(dd => {
        const r = dd.getBoundingClientRect();
        return {text: dd.textContent.trim().slice(0, 30), left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                over: dd.scrollWidth > dd.clientWidth + 1};
    })""")
    link = next(b for b in boxes if b["text"].startswith("https://"))
    meeting_id = next(b for b in boxes if b["text"].startswith("845"))
    assert not link["over"]
    overlap_x = min(link["right"], meeting_id["right"]) - max(link["left"], meeting_id["left"])
    overlap_y = min(link["bottom"], meeting_id["bottom"]) - max(link["top"], meeting_id["top"])
    assert overlap_x <= 0 or overlap_y <= 0, (link, meeting_id)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    if width == 1366:
        page.screenshot(path=str(artifacts_dir / "event-page.png"))


def test_ending_a_live_event_asks_first(page, live_server, live_app, event_id):
    from launch.extensions import db
    from launch.models import Event

    with live_app.app_context():
        db.session.get(Event, event_id).state = "live"
        db.session.commit()
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/events/{event_id}")
    button = page.locator("form[data-move=ended] button")
    assert "danger" in button.get_attribute("class")  # not the blue primary button any more
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    button.click()
    assert asked and "cannot be undone" in asked[0]
    with live_app.app_context():
        assert db.session.get(Event, event_id).state == "live"  # said no: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        button.click()
    with live_app.app_context():
        db.session.expire_all()
        assert db.session.get(Event, event_id).state == "ended"
