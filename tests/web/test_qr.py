"""QR codes: what the point's QR encodes, the round trip phone camera -> URL -> check-in, the print
sheet and downloads (which mark the codes issued), and withdrawal of one point's code."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from launch.extensions import db
from launch.models import EventPoint
from launch.services import qr, tokens
from tests.conftest import login
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


def decode(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    return found[0].text


def test_qr_round_trip_phone_camera_to_check_in(app, users, clock):
    event = make_event(start_dt=START, unit_codes=CODES)
    point = point_of(event, "21046")
    operator = app.test_client()
    login(operator, "op")
    png = operator.get(f"/c/events/{event.id}/points/{point.id}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    url = decode(Image.open(io.BytesIO(png.data)))
    assert url.startswith("https://launch.test/c/")

    # The host's phone opens the URL: sign in first, then back to the same address.
    phone = app.test_client()
    path = urlsplit(url).path
    resp = phone.get(path)
    assert resp.status_code == 302 and "/login" in resp.location and "next=" in resp.location
    resp = phone.post(resp.location, data={"username": "chost", "password": "test-pass-2023"})
    assert resp.status_code == 302 and resp.location == path
    page = phone.get(path)
    assert page.status_code == 200 and b'id="site-checkin"' in page.data
    resp = phone.post(path)
    assert resp.status_code == 302 and resp.location == f"/c/points/{point.id}"
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).checked_in_dt == DURING
    host_page = phone.get(resp.location)
    assert b'data-code="checked_in"' in host_page.data
    # Opening the QR again leads to the host page, which says it is done.
    again = phone.get(path)
    assert again.status_code == 302 and again.location == f"/c/points/{point.id}"


def test_svg_download_decodes_too(app, users):
    event = make_event(start_dt=START, unit_codes=CODES)
    point = point_of(event, "524")
    c = app.test_client()
    login(c, "op")
    resp = c.get(f"/c/events/{event.id}/points/{point.id}/qr.svg")
    assert resp.mimetype == "image/svg+xml" and resp.data.startswith(b"<?xml")
    assert 'filename="qr-event' in resp.headers["Content-Disposition"]
    # The SVG is segno's drawing of the check-in URL; the same segno code, rendered, decodes to it.
    import segno

    text = tokens.site_url(point)
    assert resp.data == qr.svg_document(text)
    png = io.BytesIO()
    segno.make(text, error="m").save(png, kind="png", scale=6)
    assert decode(Image.open(io.BytesIO(png.getvalue()))) == text
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).qr_issued_dt is not None


def test_print_sheet_has_every_point_labelled_and_marks_them_issued(app, users):
    event = make_event(start_dt=START)  # all 186 points (+ the IOC)
    c = app.test_client()
    login(c, "op")
    c.get("/lang/en")
    resp = c.get(f"/c/events/{event.id}/qr-sheet")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert html.count('class="qr-card"') == 186
    assert html.count("<svg") == 186
    assert "Xã Bình Thạnh" in html and "Huyện Bình Sơn" in html and event.title in html
    issued = db.session.scalars(select(EventPoint.qr_issued_dt).where(EventPoint.event_id == event.id,
                                                                      EventPoint.is_host.is_(False))).all()
    assert len(issued) == 186 and all(issued)
    # Every code on the sheet is the point's check-in URL (decode one from the same text).
    first = point_of(event, "21046")
    assert f'data-url="{tokens.site_url(first)}"' in html
    assert decode(qr.pil_image(tokens.site_url(first))) == tokens.site_url(first)


def test_sheet_and_downloads_are_for_operators(app, users):
    event = make_event(start_dt=START, unit_codes=CODES)
    point = point_of(event, "21046")
    c = app.test_client()
    login(c, "chost")
    assert c.get(f"/c/events/{event.id}/qr-sheet").status_code == 403
    assert c.get(f"/c/events/{event.id}/points/{point.id}/qr.png").status_code == 403
    assert db.session.get(EventPoint, point.id).qr_issued_dt is None


def test_withdraw_one_code_reissues_it_only(app, users, clock):
    event = make_event(start_dt=START, unit_codes=CODES)
    point, other = point_of(event, "21046"), point_of(event, "21043")
    old_url = tokens.site_url(point)
    other_url = tokens.site_url(other)
    op = app.test_client()
    login(op, "op")
    op.get(f"/c/events/{event.id}/qr-sheet")
    resp = op.post(f"/c/events/{event.id}/points/{point.id}/revoke")
    assert resp.status_code == 302
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert point.token_version == 2 and point.qr_issued_dt is None
    assert db.session.get(EventPoint, other.id).qr_issued_dt is not None
    assert tokens.site_url(point) != old_url and tokens.site_url(other) == other_url
    host = app.test_client()
    login(host, "chost")
    resp = host.post(urlsplit(old_url).path)
    assert resp.status_code == 410 and b'data-code="revoked"' in resp.data
    assert host.post(urlsplit(tokens.site_url(point)).path).status_code == 302


def test_badge_sheet_codes_decode_to_the_badge_token(app, users):
    event = make_event(start_dt=START, unit_codes=CODES)
    person = add_attendee(event, "21046", "Phạm Ngọc Oanh")
    c = app.test_client()
    login(c, "op")
    html = c.get(f"/c/events/{event.id}/badges").data.decode()
    assert "Phạm Ngọc Oanh" in html and html.count('class="badge-card"') == 1
    token = tokens.badge_token(person)
    assert decode(qr.pil_image(token)) == token
    assert tokens.read_badge_token(token).badge_code == person.badge_code
