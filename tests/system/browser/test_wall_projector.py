"""The projector wall at the two screens of the day (1920x1080 and 1366x768), in Chromium.

All 187 tiles (the IOC and 186 points) must be on the screen without scrolling, no tile's text may
be cut (the browser's own scrollWidth/scrollHeight against the box), absent and problem tiles must
stand out more than anything else, every state must carry an icon and a word besides its colour,
the list of points to call must say how many more there are, and the counters must be large.
Screenshots of both sizes land in test-artifacts/.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from launch.clock import utcnow
from launch.extensions import db
from launch.models import EventPoint, PointProblem, Unit
from tests.system.browser.test_wall_browser import sign_in

pytestmark = pytest.mark.browser

SIZES = [(1920, 1080), (1366, 768)]


@pytest.fixture
def busy_wall(live_app):
    """A 187-point event half-way through check-in: every state on the wall at once."""
    from sqlalchemy import select

    from launch.services.directory import import_bundled_directory
    from launch.services.users import create_user
    from tests.support.factories import make_event

    with live_app.app_context():
        import_bundled_directory()
        create_user("op", "test-pass-2023", "operator", display_name="Cán bộ IOC")
        now = utcnow()
        event = make_event(start_dt=now - timedelta(minutes=20), state="live")
        points = db.session.scalars(
            select(EventPoint).join(Unit).where(EventPoint.event_id == event.id).order_by(Unit.code)).all()
        for index, point in enumerate(points):
            if point.is_host:
                point.checked_in_dt = now - timedelta(minutes=40)
                continue
            kind = index % 10
            if kind in (0, 1, 2, 3):
                point.checked_in_dt = now - timedelta(minutes=30 - index % 20)
                point.checkin_method = "qr"
            if kind == 1:
                point.last_seen_dt = now  # host page live
            if kind == 2:
                point.last_seen_dt = now - timedelta(minutes=10)  # signal lost
            if kind == 4:
                point.connection_tested_dt = now - timedelta(hours=1)
            if kind in (5, 6):
                point.absent_dt = now - timedelta(minutes=10)
            if kind == 7:
                point.checked_in_dt = now - timedelta(minutes=25)
                db.session.add(PointProblem(event_point=point, kind="no_audio", reported_dt=now - timedelta(minutes=2)))
        db.session.commit()
        return {"event_id": event.id}


GEOMETRY = """() => {
  const vw = window.innerWidth, vh = window.innerHeight;
  const out = {tiles: 0, outside: [], cut: [], hidden: 0, pageScrolls: false, sample: {}};
  const doc = document.scrollingElement;
  out.pageScrolls = doc.scrollHeight > vh + 1 || doc.scrollWidth > vw + 1;
  const over = e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
  for (const tile of document.querySelectorAll('#tiles .tile')) {
    out.tiles += 1;
    const r = tile.getBoundingClientRect();
    if (tile.offsetParent === null || r.width === 0) { out.hidden += 1; continue; }
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      out.outside.push(tile.querySelector('.tile-name').getAttribute('aria-label'));
    }
    for (const part of [tile, ...tile.querySelectorAll('.tile-name, .tile-status')]) {
      if (over(part)) {
        out.cut.push(tile.querySelector('.tile-name').getAttribute('aria-label') + ' / ' + part.className);
      }
    }
  }
  for (const head of document.querySelectorAll('#tiles .wgroup-name')) {
    if (head.offsetParent !== null && over(head)) { out.cut.push('header ' + head.textContent); }
  }
  for (const stat of document.querySelectorAll('.wstat strong, .wstat > span')) {
    if (over(stat)) { out.cut.push('counter ' + stat.textContent); }
  }
  const name = document.querySelector('#tiles .tile:not(.tile-host) .tile-name');
  out.nameFont = parseFloat(getComputedStyle(name).fontSize);
  out.mainCounterFont = parseFloat(getComputedStyle(document.querySelector('.wstat-main strong')).fontSize);
  out.counterFonts = [...document.querySelectorAll('.wstat strong')].map(e => parseFloat(getComputedStyle(e).fontSize));
  return out;
}"""

STYLES = """() => {
  const pick = sel => { const e = document.querySelector(sel); const s = getComputedStyle(e);
    return {bg: s.backgroundColor, fg: s.color}; };
  const out = {page: getComputedStyle(document.body).backgroundColor, states: {}};
  for (const st of ['invited', 'tested', 'checked_in', 'live', 'signal_lost', 'problem', 'absent']) {
    const tile = document.querySelector('#tiles .tile[data-status="' + st + '"]');
    if (!tile) { continue; }
    out.states[st] = {...pick('#tiles .tile[data-status="' + st + '"]'),
                      icon: !!tile.querySelector('.tile-status svg.st-icon'),
                      word: tile.querySelector('.tile-status strong').textContent.trim()};
  }
  const head = document.querySelector('#tiles .wgroup:not(.wgroup-host) .wgroup-name');
  out.header = pick('#tiles .wgroup:not(.wgroup-host) .wgroup-name');
  out.headerBorder = getComputedStyle(head).borderBottomColor;
  return out;
}"""


def _rgb(css: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in css[css.index("(") + 1:css.index(")")].split(",")]
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)


def _luminance(css: str, under: str = "rgb(255, 255, 255)") -> float:
    r, g, b, a = _rgb(css)
    br, bg, bb, _a = _rgb(under)
    mixed = [c * a + u * (1 - a) for c, u in ((r, br), (g, bg), (b, bb))]

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(mixed[0]) + 0.7152 * channel(mixed[1]) + 0.0722 * channel(mixed[2])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS colours (a over white when transparent)."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


@pytest.mark.parametrize("width,height", SIZES)
def test_projector_shows_every_tile_whole_on_one_screen(page, live_server, live_app, busy_wall, artifacts_dir,
                                                        width, height):
    base = live_server.url
    sign_in(page, base)
    page.goto(base + "/lang/vi")
    page.set_viewport_size({"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/wall/{busy_wall['event_id']}/projector")
    expect(page.locator("#tiles .tile")).to_have_count(187, timeout=15000)
    expect(page.locator("#wall")).to_have_attribute("data-fit", re.compile(r"\d"))
    page.screenshot(path=str(artifacts_dir / f"wall-projector-{width}x{height}.png"))

    geometry = page.evaluate(GEOMETRY)
    assert errors == []
    assert geometry["tiles"] == 187 and geometry["hidden"] == 0
    assert geometry["outside"] == [], f"{len(geometry['outside'])} tiles off the screen"
    assert not geometry["pageScrolls"]
    assert geometry["cut"] == [], f"{len(geometry['cut'])} texts cut: {geometry['cut'][:10]}"
    # The IOC is on the screen like every point.
    expect(page.locator("#tiles .tile-host")).to_be_visible()
    # Larger than the laptop view's names (15.2 px) on the big screen; counters read from 15 m.
    if width == 1920:
        assert geometry["nameFont"] >= 16.5, geometry["nameFont"]
        assert geometry["mainCounterFont"] >= 80
        assert min(geometry["counterFonts"]) >= 50
    else:
        assert geometry["nameFont"] >= 11
        assert min(geometry["counterFonts"]) >= 36

    # Type prefixes are a small marker, the name itself is what the tile shows.
    binh_thanh = page.locator("#tiles .tile-name[aria-label='Xã Bình Thạnh']")
    expect(binh_thanh.locator(".tile-kind")).to_have_text("X")
    expect(binh_thanh.locator(".tile-label")).to_have_text("Bình Thạnh")

    # The points to call: as many as fit, and how many more.
    attention = int(page.locator("#c-attention").inner_text())
    shown = page.locator("#attention li.att").count()
    assert 0 < shown < attention
    more = page.locator("#attention-more")
    expect(more).to_be_visible()
    expect(more).to_have_text(f"+{attention - shown} điểm nữa")
    assert more.bounding_box()["y"] + more.bounding_box()["height"] <= height

    # Every state: an icon and a word besides the colour; what needs a call stands out most.
    styles = page.evaluate(STYLES)
    states = styles["states"]
    assert set(states) == {"invited", "tested", "checked_in", "live", "signal_lost", "problem", "absent"}
    assert all(s["icon"] and s["word"] for s in states.values()), states
    assert len({s["word"] for s in states.values()}) == len(states)
    assert states["checked_in"]["word"] == "Có mặt"
    standout = {name: contrast(s["bg"], styles["page"]) for name, s in states.items()}
    calm = max(v for k, v in standout.items() if k not in ("problem", "absent"))
    assert min(standout["problem"], standout["absent"]) > calm, standout
    assert contrast(styles["header"]["bg"], styles["page"]) < min(standout["problem"], standout["absent"])
    assert contrast(styles["headerBorder"], styles["page"]) < min(standout["problem"], standout["absent"])
    for name in ("problem", "absent"):  # their words are readable on the fill
        assert contrast(states[name]["fg"], states[name]["bg"]) >= 4.5, (name, states[name])
