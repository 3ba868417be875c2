"""The services the tests use besides the app (PostgreSQL, Redis, Chromium): where they are, the names
this suite owns on them, and what happens when one is missing.

One prefix names everything the suite creates on a shared server: `PG_TEST_DB` (default
`launch_test`) is the test database and the stem of every other one (`pg_database("faults")` is
`launch_test_faults`) and of every key the in-process tests write to the shared Redis
(`REDIS_TEST_URL`). Two suites with two prefixes share one PostgreSQL and one Redis without
touching each other's data, and nothing here flushes a Redis database. The real-process tests never
use the shared Redis: each starts its own redis-server on a free port (tests/support/redis_server.py),
since Redis pub/sub ignores database numbers and two stacks on one server would hear each other's
Socket.IO messages.

Where a service is absent its tests skip with the reason, except under CI (`CI=true`), where they fail.
"""
from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, make_url, text

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

#: Where to create the test databases (any database the user may connect to; `postgres` always exists).
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
#: This suite's prefix: the test database's name and the stem of every other name it owns.
PG_TEST_DB = os.environ.get("PG_TEST_DB", "launch_test")
PG_HOST = make_url(PG_ADMIN_URL).host or "127.0.0.1"
PG_PORT = make_url(PG_ADMIN_URL).port or 5432

#: The shared Redis of the in-process tests; they write only keys under `redis_prefix()`.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/12")

#: Debian's Chromium (`CHROMIUM=/elsewhere/chromium` to use another; never a test tool's download).
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def service_missing(what: str, why: str) -> NoReturn:
    """Skip a service test where the service is absent, except in CI, where it must run."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


def pg_database(purpose: str) -> str:
    """The name of this suite's database for `purpose` (e.g. "faults" -> launch_test_faults)."""
    return f"{PG_TEST_DB}_{purpose}"


def redis_prefix(purpose: str) -> str:
    """The stem of this suite's keys for `purpose` on the shared Redis."""
    return f"{PG_TEST_DB}:{purpose}"


def ensure_pg_database(name: str) -> str:
    """Create database `name` on the local PostgreSQL if needed; return its SQLAlchemy URL."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def pg_database_url(name: str) -> str:
    """`ensure_pg_database`, skipped (failed in CI) when PostgreSQL does not answer."""
    try:
        return ensure_pg_database(name)
    except Exception as exc:  # any driver error means: not available here
        service_missing("PostgreSQL", str(exc).splitlines()[0])


def fresh_pg_database(name: str) -> str:
    """An empty database `name` (created if missing, its schema dropped); its SQLAlchemy URL."""
    url = pg_database_url(name)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def require_chromium() -> str:
    """The Chromium executable, or skip (fail in CI): the guard of every browser test."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        service_missing("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM
