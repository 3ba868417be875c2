"""The check-in pages: QR address, host page (with the presence hook), scanner, operator pages."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from launch.extensions import db
from launch.models import AuditEntry, EventPoint, PointProblem
from launch.services import presence, tokens
from tests.conftest import login
from tests.support.checkin import CODES, DURING, START, capture_announcements
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def path_of(point) -> str:
    return urlsplit(tokens.site_url(point)).path


def test_refusal_pages_say_why_with_the_code(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    resp = host.get(path_of(point_of(event, "522")))
    assert resp.status_code == 403 and b'data-code="not_your_point"' in resp.data
    resp = host.get(path_of(point) + "tampered")
    assert resp.status_code == 400 and b'data-code="invalid_token"' in resp.data
    event.start_dt, event.end_dt = START + timedelta(days=1), START + timedelta(days=1, hours=2)  # moved
    db.session.commit()
    resp = host.get(path_of(point))
    assert resp.status_code == 409 and b'data-code="not_yet_open"' in resp.data
    assert db.session.get(EventPoint, point.id).checked_in_dt is None
    codes = [e.details["code"] for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "checkin.refused").order_by(AuditEntry.id))]
    assert codes == ["not_your_point", "invalid_token", "not_yet_open"]


def test_host_page_has_presence_hook_and_reports(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    assert host.post(path_of(point)).status_code == 302
    html = host.get(f"/c/points/{point.id}").data.decode()
    hook = re.search(r'<div id="presence" data-event="(\d+)" data-point="(\d+)" data-token="([^"]+)" '
                     r'data-client="/static/vendor/socket.io-client-4.8.4/socket.io.min.[0-9a-f]{12}.js" hidden>', html)
    assert hook and hook.groups()[:2] == (str(event.id), str(point.id))
    # The page's token is a presence token issued to this host, never the printed QR's.
    assert hook.group(3) != tokens.site_token(point)
    assert presence.point_for_token(hook.group(3), point.id) == point
    assert re.search(r'<script src="/static/js/presence\.[0-9a-f]{12}\.js" defer></script>', html)
    assert "<script>" not in html
    host.post(f"/c/points/{point.id}/headcount", data={"headcount": "51"})
    host.post(f"/c/points/{point.id}/connection-test")
    host.post(f"/c/points/{point.id}/problem", data={"kind": "no_connection"})
    host.post(f"/c/points/{point.id}/problem", data={"kind": "other", "text": ""})  # refused: no text
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert point.headcount == 51 and point.connection_tested_dt == DURING
    assert [p.kind for p in db.session.scalars(select(PointProblem))] == ["no_connection"]
    assert as_user("other_host").get(f"/c/points/{point.id}").status_code == 403


def test_scanner_page_is_light_and_csp_clean(app, event, users, as_user):
    host = as_user("commune_host")
    point = point_of(event, "21046")
    resp = host.get(f"/c/points/{point.id}/scan")
    html = resp.data.decode()
    assert resp.status_code == 200 and 'id="scanner-config" type="application/json"' not in html
    assert re.search(r'<script type="application/json" id="scanner-config">', html)
    assert not re.search(r"<script(?![^>]*(src=|application/json))", html)  # no inline script
    total = len(resp.data)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html):
        total += len(app.test_client().get(asset).data)
    assert total < 100_000, total
    config = json.loads(re.search(r'id="scanner-config">(.*?)</script>', html).group(1))
    wasm = app.test_client().get(config["wasm"])
    assert wasm.mimetype == "application/wasm"
    sw = app.test_client().get("/c/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"


def test_operator_event_page_manual_checkin_and_revoke(app, event, users, as_user):
    op = as_user("operator")
    op.get("/lang/en")
    point = point_of(event, "522")
    # The IOC runs the event: checked in or not, it is not one of the 4 points invited (as on the wall).
    ioc = point_of(event, "51")
    ioc.checked_in_dt = START
    db.session.commit()
    page = op.get(f"/c/events/{event.id}")
    assert page.status_code == 200 and b"0 of 4 points checked in" in page.data
    assert op.post(f"/c/events/{event.id}/points/{point.id}/manual", data={"reason": ""}).status_code == 400
    resp = op.post(f"/c/events/{event.id}/points/{point.id}/manual", data={"reason": "Gọi điện xác nhận"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).checkin_method == "manual"
    assert b"1 of 4 points checked in" in op.get(f"/c/events/{event.id}").data
    viewer = as_user("viewer")
    assert viewer.get(f"/c/events/{event.id}").status_code == 200
    assert viewer.post(f"/c/events/{event.id}/points/{point.id}/revoke").status_code == 403
    host = as_user("commune_host")
    assert host.post(f"/c/events/{event.id}/points/{point.id}/manual", data={"reason": "x"}).status_code == 403


def test_my_points_lists_the_hosts_points(app, event, users, as_user):
    c = as_user("district_host")
    html = c.get("/c/").data.decode()
    for point_code in ("524", "21046", "21043"):
        assert f"/c/points/{point_of(event, point_code).id}\"" in html
    assert f"/c/points/{point_of(event, '522').id}\"" not in html


def test_login_comes_back_to_the_qr_address(app, event, users):
    c = app.test_client()
    path = path_of(point_of(event, "21046"))
    resp = c.get(path)
    assert resp.status_code == 302
    resp = login(c, "chost")
    assert resp.status_code == 302
    resp = c.post(f"/login?next={path}", data={"username": "chost", "password": "test-pass-2023"})
    assert resp.location == "/"  # already signed in: home
    fresh = app.test_client()
    resp = fresh.post(f"/login?next={path}", data={"username": "chost", "password": "test-pass-2023"})
    assert resp.location == path
