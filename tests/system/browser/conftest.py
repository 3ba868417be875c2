"""Real-browser fixtures: Debian's Chromium driven by Playwright, against a live server.

Never `playwright install`: the executable is Debian's (tests/support/services.py: CHROMIUM). Every
test in this directory is marked `browser`, and every `browser` test is guarded before its fixtures
run (tests/conftest.py): without Chromium it skips with the reason, except under CI, where it fails.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from launch import create_app
from launch.extensions import db
from tests.support.services import require_chromium

BASE_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: `-m "not browser"` leaves them out too
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory drives Chromium: mark it `browser`, with or without its own mark."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def fake_camera_file(tmp_path_factory) -> str:
    """A .y4m 'camera' file; tests that need a QR in front of the camera write their own."""
    path = tmp_path_factory.mktemp("camera") / "blank.y4m"
    write_y4m(path, None)
    return str(path)


def write_y4m(path: Path, image) -> None:
    """Write ten 640x480 frames showing `image` (a PIL image, e.g. a QR) on white, or blank."""
    from PIL import Image

    canvas = Image.new("RGB", (640, 480), "white")
    if image is not None:
        img = image.convert("RGB")
        img.thumbnail((440, 440))
        canvas.paste(img, ((640 - img.width) // 2, (480 - img.height) // 2))
    y, u, v = canvas.convert("YCbCr").split()
    u, v = u.resize((320, 240)), v.resize((320, 240))
    with open(path, "wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            fh.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, fake_camera_file):
    """Launch Debian's Chromium with a fake camera (overrides pytest-playwright's)."""
    camera = os.environ.get("LAUNCH_FAKE_CAMERA", fake_camera_file)
    return {**browser_type_launch_args, "executable_path": require_chromium(),
            "args": BASE_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                 f"--use-file-for-fake-video-capture={camera}"]}


class LiveServer:
    """The app served by Werkzeug (threaded, with Socket.IO) in a background thread."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def live_app(tmp_path) -> Iterator:
    """An app on a SQLite file (shared safely between the server's threads), schema created."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/live.db",
                     PUBLIC_BASE_URL="http://127.0.0.1")
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:
    """Serve `live_app`; the URL is `live_server.url`."""
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save screenshots (kept by CI as test artifacts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
