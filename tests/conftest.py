"""Shared fixtures: an app per test on SQLite and on PostgreSQL, clients, accounts, the directory."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from launch import create_app
from launch.extensions import db
from tests.support.services import IN_CI, PG_TEST_DB, pg_database_url, require_chromium

# CI replays the same generated inputs every run (a landing never depends on luck); local runs keep
# exploring new ones, and what they find is pinned in tests/web/test_properties_regressions.py.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    hypothesis_settings.load_profile("ci")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every test marked `browser` needs Chromium: skipped with the reason where it is missing (failed
    under CI), before any fixture starts a browser or a server. Tests under tests/system/browser/ are
    marked by that directory's conftest, so a new one cannot forget."""
    if item.get_closest_marker("browser") is not None:
        require_chromium()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the PostgreSQL test database (skipped outside CI when PostgreSQL does not answer)."""
    return pg_database_url(PG_TEST_DB)


_pg_schema_ready = False


def _reset_pg(app) -> None:
    global _pg_schema_ready
    with app.app_context():
        if not _pg_schema_ready:
            db.drop_all()
            db.create_all()
            _pg_schema_ready = True
        else:
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context.

    The `app` fixture keeps an app context pushed for the test's own database work; without this,
    requests would share its `g` (Flask-Login's cached user) and its database session.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile the message catalogues if they are missing or older than the .po files."""
    root = Path(__file__).resolve().parent.parent / "launch" / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(root)],
                           check=True, capture_output=True)
            break


def make_app(database: str, request: pytest.FixtureRequest, **overrides):
    """An app in testing config on `database` ("sqlite" or "postgres"), with an empty schema."""
    if database == "postgres":
        url = request.getfixturevalue("pg_url")
        application = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **overrides)
        _reset_pg(application)
    else:
        application = create_app("testing", **overrides)
        with application.app_context():
            db.create_all()
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    """Each database-backed test runs on SQLite and on PostgreSQL."""
    return request.param


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change the app's config."""
    return {}


@pytest.fixture
def app(database: str, request: pytest.FixtureRequest, app_overrides: dict) -> Iterator:
    """A fresh app and empty database for one test, inside an app context."""
    application = make_app(database, request, **app_overrides)
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        db.session.remove()
        if database == "sqlite":
            db.drop_all()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def client(app):
    """A test client (cookies kept between requests)."""
    return app.test_client()


@pytest.fixture
def directory(app):
    """The bundled Quảng Ngãi directory, loaded."""
    from launch.services.directory import import_bundled_directory

    import_bundled_directory()
    return app


@pytest.fixture
def make_user(app):
    """Factory: make_user("host", units=["524"]) -> User (password "test-pass-2023")."""
    from launch.services.users import create_user

    counter = {"n": 0}

    def factory(role: str, units: tuple[str, ...] | list[str] = (), username: str | None = None, **kw):
        counter["n"] += 1
        return create_user(username or f"{role}{counter['n']}", "test-pass-2023", role, unit_codes=tuple(units), **kw)

    return factory


def login(client, username: str, password: str = "test-pass-2023"):
    """Sign `client` in; returns the response."""
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


@pytest.fixture
def users(directory, make_user):
    """One account of each role, plus hosts at district and commune level (Bình Sơn and Bình Thạnh)."""
    return {
        "operator": make_user("operator", username="op"),
        "viewer": make_user("viewer", username="viewer"),
        "district_host": make_user("host", units=["524"], username="dhost"),
        "commune_host": make_user("host", units=["21046"], username="chost"),
        "other_host": make_user("host", units=["522"], username="ohost"),
    }


@pytest.fixture
def as_user(app, users):
    """as_user("operator") -> a test client signed in as that fixture user."""

    def factory(key: str):
        c = app.test_client()
        resp = login(c, users[key].username)
        assert resp.status_code == 302, resp.data[:500]
        return c

    return factory


@pytest.fixture
def clock():
    """Time stands still at DURING: 07:30 on launch day, inside the check-in window."""
    import time_machine

    from tests.support.checkin import DURING

    with time_machine.travel(DURING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(users, clock):
    """The security tests' world (points, people, tokens), built and used at DURING."""
    from tests.support.security import build_world

    return build_world(users)
