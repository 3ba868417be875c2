"""Shared pieces of the phone browser tests: an app with CSRF on (as in production) that records the
paths it serves, the Bình Thạnh host's world, signing in, bytes on the wire, slow 3G, axe-core."""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from launch import create_app
from launch.extensions import db

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024}
#: The scanner library, by its path without the content hash.
LIBRARY = re.compile(r"^/static/vendor/(barcode-detector-3\.2\.2/ponyfill|zxing-wasm-3\.1\.3/zxing_reader)\.")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PHONE = {"width": 360, "height": 640}


def recording_app(tmp_path, **overrides):
    """An app on a SQLite file, CSRF on; `app.seen_paths` lists every path the server was asked for."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/live.db",
                     PUBLIC_BASE_URL="http://127.0.0.1", WTF_CSRF_ENABLED=True, **overrides)
    with app.app_context():
        db.create_all()
    seen: list[str] = []
    lock = threading.Lock()
    inner = app.wsgi_app

    def recording(environ, start_response):
        with lock:
            seen.append(environ.get("PATH_INFO", ""))
        return inner(environ, start_response)

    app.wsgi_app = recording  # type: ignore[method-assign]
    app.seen_paths = seen
    return app


@pytest.fixture(name="live_app")
def recording_live_app(tmp_path) -> Iterator:
    """The phone modules' `live_app` (import it into a module to use it): a `recording_app`."""
    app = recording_app(tmp_path)
    yield app
    with app.app_context():
        db.engine.dispose()


def host_world(app) -> dict:
    """The directory, the Bình Thạnh host `chost`, an event starting in 30 minutes with its meeting
    details, the point's own endpoint, and two people on the roster."""
    from sqlalchemy import select

    from launch.models import Attendee
    from launch.services.directory import import_bundled_directory
    from launch.services.roster import import_roster
    from launch.services.tokens import badge_token, site_token
    from launch.services.users import create_user
    from tests.support.factories import make_event, point_of

    with app.app_context():
        import_bundled_directory()
        create_user("chost", "test-pass-2023", "host", unit_codes=["21046"], display_name="Chủ tịch xã")
        event = make_event(unit_codes=["524", "21046"])
        event.meeting_id, event.meeting_passcode = "IOC-QNG-2023", "280723"
        point = point_of(event, "21046")
        point.vc_endpoint = "BinhThanh-PhongHop-01"
        db.session.commit()
        import_roster(event, "name,unit,position\nTrần Thị Bình,21046,Công chức\nLê Văn Cường,21046,Trưởng thôn\n")
        binh = db.session.scalar(select(Attendee).where(Attendee.search_name == "tran thi binh"))
        cuong = db.session.scalar(select(Attendee).where(Attendee.search_name == "le van cuong"))
        return {"event_id": event.id, "point_id": point.id, "token": site_token(point), "binh": binh.id,
                "cuong": cuong.id, "cuong_badge": badge_token(cuong), "binh_badge": badge_token(binh)}


def sign_in(page, base: str, username: str = "chost", *, english: bool = True) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test-pass-2023")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    if english:
        page.goto(base + "/lang/en")  # after signing in, which starts a fresh session


def wait_for(page, script: str, timeout: float = 60) -> None:
    """Poll a JS expression (evaluate: the CSP forbids Playwright's string-eval waits)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({script})"):
        assert time.monotonic() < deadline, f"never true: {script}"
        page.wait_for_timeout(50)


def roster_on_phone(page, point_id: int, timeout: float = 60) -> None:
    """Wait until the phone kept the roster."""
    wait_for(page, f"localStorage.getItem('launch.roster.{point_id}') !== null", timeout)


class Wire:
    """Bytes on the wire per response (CDP Network.loadingFinished encodedDataLength), by URL path."""

    def __init__(self, context, page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.encoding: dict[str, str] = {}
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)

    def _path(self, request_id: str) -> str:
        return re.sub(r"^https?://[^/]+", "", self.urls.get(request_id, "?"))

    def _response(self, event: dict) -> None:
        headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
        self.encoding[self._path(event["requestId"])] = headers.get("content-encoding", "")

    def _finished(self, event: dict) -> None:
        path = self._path(event["requestId"])
        self.bytes[path] = self.bytes.get(path, 0) + int(event.get("encodedDataLength", 0))

    def reset(self) -> None:
        self.bytes.clear()

    def total(self, *, library: bool = True) -> int:
        return sum(n for p, n in self.bytes.items() if library or not LIBRARY.match(p))

    def library(self) -> dict[str, int]:
        return {p: n for p, n in self.bytes.items() if LIBRARY.match(p)}

    def cold(self) -> None:
        """Every load from the network: no HTTP cache, no service worker (honest bytes)."""
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.cdp.send("Network.setBypassServiceWorker", {"bypass": True})

    def browser_cache(self) -> None:
        """From now on the browser's HTTP cache works as usual (the service worker stays bypassed)."""
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})

    def throttle(self, conditions: dict) -> None:
        self.cdp.send("Network.emulateNetworkConditions", conditions)


def axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (axe injected by add_init_script)."""
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
