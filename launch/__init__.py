"""The launch manager: schedule a province-wide video-conference launch, check points in by QR,
watch them live, and run the follow-up campaigns."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine

from config import INSTANCE_DIR, get_config, instance_secret_key
from launch.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio


def create_app(config_name: str | None = None, **overrides: Any) -> Flask:
    """Build the app: config class + environment + `overrides` (tests), extensions, blueprints."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    config_class = get_config(config_name)
    app.config.from_object(config_class)
    app.config.update(config_class.from_env())
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY") and config_class.NAME == "development":
        # The embedded default: a random key generated once and kept in instance/, never a published one.
        app.config["SECRET_KEY"] = instance_secret_key(app.config["SECRET_KEY_FILE"])
    config_class.validate(app.config)
    app.config.setdefault("CONFIG_NAME", config_class.NAME)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("STATIC_FOLDER"):  # another copy of the static files (a test of a new deployment)
        app.static_folder = app.config["STATIC_FOLDER"]

    from launch import assets

    assets.init_app(app)  # hashed, precompressed, long-cached static files (launch/assets.py)
    if app.config.get("PROXY_FIX"):
        # Behind nginx: trust one proxy hop for the client address, scheme and host (HTTPS, HSTS, QR URLs).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    _init_database(app)
    _init_i18n(app)
    _init_security(app)
    _init_socketio(app)

    from launch import models  # noqa: F401  (registers the tables)
    from launch.cli import register_cli
    from launch.realtime import init_realtime
    from launch.services import hierarchy
    from launch.web import register_web

    hierarchy.register()
    register_web(app)
    register_cli(app)
    init_realtime(app)

    if app.config.get("SCHEDULER_ENABLED"):
        from launch.jobs.scheduler import start_in_process

        start_in_process(app)
    return app


def _init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {}).update({"check_same_thread": False, "timeout": 30})
    else:
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True)


@sa_event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ANN001
    """Foreign keys on, and WAL so the wall can read while check-ins write."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def select_locale() -> str:
    """Session choice, then the user's saved choice, then Vietnamese."""
    languages = ("vi", "en")
    if not has_request_context():
        return "vi"
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    return "vi"


def _init_i18n(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "Asia/Ho_Chi_Minh",
        default_translation_directories="translations",
    )


def _init_security(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # "basic", not "strong": a phone moving between Wi-Fi and 4G changes its address, and must stay
    # signed in; a changed address or browser only marks the session not fresh.
    login_manager.session_protection = "basic"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    limiter.init_app(app)
    from launch.services.users import _decoy_hash

    # Made now, so that the first sign-in with an unknown name costs one hash like every other.
    _decoy_hash(app.config.get("PASSWORD_HASH_METHOD", "scrypt"))

    @login_manager.user_loader
    def load_user(user_id: str):
        """The user of a session or remember cookie, only while its session generation is current."""
        from launch.services.users import user_for_session_id

        user = user_for_session_id(user_id)
        # A disabled account's sessions end at their next request, not when the cookie expires.
        return user if user is not None and user.is_enabled else None

    from launch.web.headers import security_headers_for

    @app.after_request
    def security_headers(response):  # noqa: ANN001, ANN202
        for name, value in security_headers_for(request.is_secure):
            response.headers.setdefault(name, value)
        if _private(response):
            # Signed-in pages, API answers and exports hold names and figures: no browser or proxy keeps them.
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


def _private(response) -> bool:  # noqa: ANN001
    """True for an answer that must not be stored: anything for a signed-in user or a token, and downloads.

    Static files stay cacheable (they are the same for everyone); Flask-Login's user is looked at only
    if this request already loaded it or carries a session, so anonymous pages cost no query.
    """
    if request.endpoint == "static" or request.path.startswith("/static/"):
        return False
    if "attachment" in (response.headers.get("Content-Disposition") or ""):
        return True
    from flask import g

    if getattr(g, "api_user", None) is not None:
        return True
    if "_user_id" in session or "_login_user" in g:
        return bool(getattr(current_user, "is_authenticated", False))
    return False


def _init_socketio(app: Flask) -> None:
    from launch.realtime import wire

    socketio.init_app(
        app,
        json=wire,  # UTF-8 as is, snapshots encoded once (see launch/realtime/wire.py)
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL"),
        ping_interval=app.config.get("SOCKETIO_PING_INTERVAL", 20),
        ping_timeout=app.config.get("SOCKETIO_PING_TIMEOUT", 20),
        manage_session=False,
    )
