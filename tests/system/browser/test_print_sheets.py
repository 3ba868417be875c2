"""The QR sheet and the badges, printed (Chromium's print media, A4's printable width): every caption
stays inside its card's cut line and the event's date is whole, even with a long title and names."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.system.browser.test_wall_browser import sign_in

pytestmark = pytest.mark.browser

LONG_TITLE = ("Lễ phát động Phong trào chuyển đổi số toàn dân, triển khai Tổ công nghệ số cộng đồng "
              "và ra mắt Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Quảng Ngãi năm 2023")
#: 190 mm (A4 less 10 mm margins) at 96 dpi.
PRINTABLE_WIDTH = 718

CARDS = """(selector) => {
  const out = {cards: 0, outside: [], dateCut: [], nameCut: []};
  for (const card of document.querySelectorAll(selector)) {
    out.cards += 1;
    const box = card.getBoundingClientRect();
    for (const part of card.querySelectorAll('svg, figcaption, figcaption > *')) {
      const r = part.getBoundingClientRect();
      if (r.bottom > box.bottom - 0.5 || r.right > box.right + 0.5 || r.left < box.left - 0.5) {
        out.outside.push(card.textContent.trim().slice(0, 60) + ' / ' + part.tagName + '.' + part.className);
      }
    }
    const date = card.querySelector('.cap-date');
    if (!date || date.scrollWidth > date.clientWidth + 1 || date.getBoundingClientRect().height === 0) {
      out.dateCut.push(card.textContent.trim().slice(0, 60));
    }
    const name = card.querySelector('.cap-name');
    if (name.scrollHeight > name.clientHeight + 1 || name.scrollWidth > name.clientWidth + 1) {
      out.nameCut.push(name.textContent);
    }
  }
  return out;
}"""


@pytest.fixture
def sheet_event(live_app):
    from launch.extensions import db
    from launch.services import roster
    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user
    from tests.support.factories import make_event

    with live_app.app_context():
        import_bundled_directory()
        operator = create_user("op", "test-pass-2023", "operator")
        event = make_event(title=LONG_TITLE, unit_codes=["522", "21046", "21043", "524", "21220"])
        rows = ["name,unit,position",
                "Nguyễn Thị Hoàng Phương Thảo,21046,Phó Chủ tịch Ủy ban nhân dân xã phụ trách văn hóa - xã hội",
                "Lê Văn A,522,Chủ tịch",
                "Tôn Nữ Thị Bảo Ngọc Hương,21220,Cán bộ Văn phòng - Thống kê kiêm Tổ trưởng Tổ công nghệ số"]
        roster.import_roster(event, "\n".join(rows).encode(), actor=operator)
        db.session.commit()
        return event.id


@pytest.mark.parametrize("path,selector", [("qr-sheet", ".qr-card"), ("badges", ".badge-card")])
def test_printed_captions_stay_inside_the_cut_line(page, live_server, sheet_event, artifacts_dir, path, selector):
    sign_in(page, live_server.url)
    page.goto(live_server.url + "/lang/vi")
    page.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 1100})
    page.emulate_media(media="print")
    page.goto(f"{live_server.url}/c/events/{sheet_event}/{path}")
    expect(page.locator(selector).first).to_be_visible()
    result = page.evaluate(CARDS, selector)
    page.screenshot(path=str(artifacts_dir / f"print-{path}.png"), full_page=True)
    assert result["cards"] >= 3
    assert result["outside"] == []
    assert result["dateCut"] == []
    assert result["nameCut"] == []


def test_onboarding_sheet_prints_one_card_per_host_inside_the_cut_line(page, live_server, sheet_event,
                                                                      artifacts_dir):
    sign_in(page, live_server.url)
    page.goto(live_server.url + "/lang/vi")
    page.goto(f"{live_server.url}/admin/events/{sheet_event}/onboarding")
    expect(page.locator("#onboarding tbody tr")).to_have_count(5)
    dialogs: list[str] = []

    def accept(dialog) -> None:  # noqa: ANN001
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("form[data-confirm] button[type=submit]")
    expect(page.locator(".invite-card")).to_have_count(5)
    assert dialogs and "5" in dialogs[0]  # asked first, saying how many
    page.set_viewport_size({"width": PRINTABLE_WIDTH, "height": 1100})
    page.emulate_media(media="print")
    result = page.evaluate(CARDS, ".invite-card")
    page.screenshot(path=str(artifacts_dir / "print-invitations.png"), full_page=True)
    assert result["cards"] == 5
    assert result["outside"] == [] and result["dateCut"] == [] and result["nameCut"] == []
