"""The factory and the config classes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import DEV_SECRET_KEY, ConfigError, get_config
from launch import create_app


def test_testing_config_uses_memory_sqlite_and_no_scheduler():
    app = create_app("testing")
    assert app.config["TESTING"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["SCHEDULER_ENABLED"] is False


def test_overrides_win_over_class_and_environment(monkeypatch):
    monkeypatch.setenv("TEST_DATABASE_URL", "sqlite:///from-env.db")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", ITEMS_PER_PAGE=7)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"
    assert app.config["ITEMS_PER_PAGE"] == 7


def test_production_refuses_missing_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError, match="development default"):
        create_app("production")


def test_production_refuses_short_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="too short"):
        create_app("production")


def test_production_starts_with_real_secret_and_secure_cookies(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/db")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SCHEDULER_ENABLED"] is False


def test_redis_url_switches_rate_limit_storage(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    cfg = get_config("development")
    values = cfg.from_env()
    assert values["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_unknown_config_name():
    with pytest.raises(ConfigError):
        get_config("nope")


def _async_mode_in_child(patch: bool, env_mode: str | None = None) -> subprocess.CompletedProcess:
    code = ("from gevent import monkey; monkey.patch_all()\n" if patch else "") + (
        "from config import socketio_async_mode\nprint(socketio_async_mode())\n")
    env = {k: v for k, v in os.environ.items() if k != "SOCKETIO_ASYNC_MODE"}
    if env_mode is not None:
        env["SOCKETIO_ASYNC_MODE"] = env_mode
    return subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, env=env,
                          capture_output=True, text=True, timeout=60)


def test_socketio_mode_follows_the_server_not_what_is_installed():
    # gevent is installed (the Procfile's worker), yet the embedded server keeps threading ...
    assert _async_mode_in_child(patch=False).stdout.strip() == "threading"
    # ... and gunicorn's gevent worker (which monkey-patches first) gets gevent
    assert _async_mode_in_child(patch=True).stdout.strip() == "gevent"
    assert _async_mode_in_child(patch=True, env_mode="threading").stdout.strip() == "threading"
    bad = _async_mode_in_child(patch=False, env_mode="eventlet")
    assert bad.returncode != 0 and "must be threading or gevent" in bad.stderr
