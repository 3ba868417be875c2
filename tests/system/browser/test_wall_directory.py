"""A directory edit during the event reaches the open wall in a real browser (issue 15 phase B)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from launch.extensions import db
from tests.system.browser.test_wall_browser import BINH_THANH, sign_in, wall_setup  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_a_renamed_point_and_a_new_phone_reach_the_open_wall(page, live_server, live_app, wall_setup):  # noqa: F811
    base = live_server.url
    sign_in(page, base)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{base}/wall/{wall_setup['event_id']}")
    expect(page.locator("#tiles .tile")).to_have_count(187, timeout=15000)
    expect(page.locator("#wall-conn")).to_have_attribute("data-conn", "live")
    target = page.locator(f"#tile-{wall_setup['points'][BINH_THANH]}")
    expect(target).to_contain_text("Bình Thạnh")
    seq = int(page.locator("#wall").get_attribute("data-seq"))

    with live_app.app_context():
        from launch.models import Unit
        from launch.services import directory

        unit = db.session.scalar(select(Unit).where(Unit.code == BINH_THANH))
        directory.import_directory("code,name,level,division_type,parent_code,host_phone\n"
                                   f"{BINH_THANH},Xã Bình Thạnh Đông,commune,{unit.division_type},"
                                   f"{unit.parent.code},0905 777 888\n")
    # The delta carries the tile's new fingerprint; the wall takes a snapshot with the new name.
    expect(target).to_contain_text("Bình Thạnh Đông", timeout=10000)
    assert int(page.locator("#wall").get_attribute("data-seq")) > seq
