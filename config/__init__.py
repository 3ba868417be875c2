"""Configuration classes, chosen by name, overridable from the environment.

Nothing here reads a *required* variable at import time: `ProductionConfig.validate`
checks them when the app is created and says exactly what is missing.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

#: A secret published in this repository (it used to be the development default). Production, and any
#: server reachable beyond loopback, refuse it: whoever read the repo could sign sessions with it.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
#: Every key published in the repository (the testing config's too).
PUBLISHED_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "testing-secret-key"})
#: Where the embedded default keeps the random key it generated on its first run.
SECRET_KEY_FILE = INSTANCE_DIR / "secret_key"


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe or incomplete."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def socketio_async_mode() -> str:
    """SOCKETIO_ASYNC_MODE if set, else what the server running us needs: gevent under gunicorn's
    gevent worker (it has monkey-patched the standard library), threading everywhere else.

    Chosen here, never left to Flask-SocketIO's own detection: gevent being INSTALLED would make it
    pick gevent for the embedded Werkzeug server too, which cannot serve it.
    """
    mode = os.environ.get("SOCKETIO_ASYNC_MODE")
    if mode:
        if mode not in ("threading", "gevent"):
            raise RuntimeError(f"SOCKETIO_ASYNC_MODE must be threading or gevent, not {mode!r}")
        return mode
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("socket") else "threading"


def instance_secret_key(path: Path | str = SECRET_KEY_FILE) -> str:
    """The random key kept at `path`, generated on first use (readable by its owner only).

    Why a file: `make run` never sets SECRET_KEY, and a default written in the repository would let
    anyone forge sessions and QR tokens. Several processes starting at once agree on one key: the
    file appears whole (written aside, then hard-linked), and whoever loses the race reads the winner's.
    """
    path = Path(path)
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip() or key
    finally:
        tmp.unlink(missing_ok=True)
    return key


def is_loopback(host: str | None) -> bool:
    """True when `host` (HOST of `python app.py`) is reachable from this machine only."""
    host = (host or "").strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # 0.0.0.0 is not loopback; any other name may resolve to a LAN address


def check_serving(host: str | None, config: dict) -> None:
    """Refuse to serve beyond loopback with a key published in the repository (ConfigError)."""
    if is_loopback(host):
        return
    if config.get("SECRET_KEY") in PUBLISHED_SECRET_KEYS:
        raise ConfigError(
            f"HOST={host} serves this app beyond this machine, but SECRET_KEY is the development key "
            "published in the repository: anyone could forge sessions with it. Unset SECRET_KEY (a random "
            "key is then kept in instance/secret_key) or set it to a long random value."
        )


class Config:
    """Defaults for every environment: the embedded single-process setup."""

    NAME = "default"
    #: None: the embedded default generates one into SECRET_KEY_FILE on first run (see create_app).
    SECRET_KEY: str | None = None
    SECRET_KEY_FILE = str(SECRET_KEY_FILE)
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'launch.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL: str | None = None

    # Sessions and cookies.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    #: "Keep me signed in" lasts two weeks, not Flask-Login's year; signing out ends it at once anyway.
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = None  # a host may keep a form open through a whole ceremony

    # Languages and time.
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Rate limits (Flask-Limiter); storage switches to Redis when REDIS_URL is set.
    RATELIMIT_STORAGE_URI = "launch-memory://"  # launch.extensions.SweptMemoryStorage
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not stop check-ins: count in this process's memory until it answers again.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_RATE_LIMIT = "10 per minute"
    CHECKIN_RATE_LIMIT = "600 per minute"

    # Upload limits (CSV imports).
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024

    # Scheduler: in-process for the embedded default; its own process when scaled out.
    SCHEDULER_ENABLED = True
    SCHEDULER_SWEEP_SECONDS = 5
    #: A reminder found late (e.g. after a restart) is still sent within this many minutes.
    SCHEDULER_MISFIRE_GRACE_MINUTES = 30
    #: Campaigns remind the hosts of units that have not reported this long before each cut-off
    #: (as well as at the cut-off); 0 sends no reminder before.
    CAMPAIGN_REMIND_BEFORE_MINUTES = 120

    # Public address used in QR codes and links sent outside the app.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # Socket.IO.
    SOCKETIO_ASYNC_MODE = "threading"
    #: At most one wall delta per room per this many seconds (bursts are coalesced).
    WALL_COALESCE_SECONDS = 0.2
    #: A snapshot is reused for this long while its room's number has not moved (resync storms,
    #: a projector and dozens of organisers joining at once); 0 rebuilds every time.
    WALL_SNAPSHOT_CACHE_SECONDS = 2.0
    #: Scaled out, the wall sender tells each live room its current number this often (0: never).
    WALL_TICK_SECONDS = 5.0
    PRESENCE_TIMEOUT_SECONDS = 45
    #: A host page's presence token opens a connection this long after the page was served (its
    #: session cookie keeps working after that); the printed QR opens none.
    PRESENCE_TOKEN_SECONDS = 15 * 60
    #: A point's host may undo a check-in (a wrong badge, the wrong name picked, the QR scanned by
    #: mistake) for this many minutes after it; an operator may undo one at any time.
    CHECKIN_UNDO_MINUTES = 5
    #: Secret token of the Zoom app whose meeting webhooks tell who is in the call (None: hook refused).
    ZOOM_WEBHOOK_SECRET_TOKEN: str | None = None

    # Mail (SMTP); None disables e-mail.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_FROM = "launch@localhost"

    ITEMS_PER_PAGE = 50
    PASSWORD_HASH_METHOD = "scrypt"

    @classmethod
    def from_env(cls) -> dict:
        """Values from the environment that override the class defaults."""
        out: dict = {}
        if os.environ.get("SECRET_KEY"):
            out["SECRET_KEY"] = os.environ["SECRET_KEY"]
        if os.environ.get("DATABASE_URL"):
            out["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(os.environ["DATABASE_URL"])
        if os.environ.get("REDIS_URL"):
            out["REDIS_URL"] = os.environ["REDIS_URL"]
            out["RATELIMIT_STORAGE_URI"] = os.environ["REDIS_URL"]
        if os.environ.get("PUBLIC_BASE_URL"):
            out["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"].rstrip("/")
        if os.environ.get("SCHEDULER_ENABLED") is not None:
            out["SCHEDULER_ENABLED"] = _env_bool("SCHEDULER_ENABLED", True)
        if os.environ.get("MAIL_SERVER"):
            out["MAIL_SERVER"] = os.environ["MAIL_SERVER"]
            out["MAIL_PORT"] = _env_int("MAIL_PORT", 25)
        if os.environ.get("PROXY_FIX") is not None:
            out["PROXY_FIX"] = _env_bool("PROXY_FIX", False)
        if os.environ.get("MAIL_FROM"):
            out["MAIL_FROM"] = os.environ["MAIL_FROM"]
        # Scheduler timing (the scheduler process reads them too: sweep period, misfire grace, task lease).
        for key in ("SCHEDULER_SWEEP_SECONDS", "SCHEDULER_MISFIRE_GRACE_MINUTES", "SCHEDULER_TASK_LEASE_SECONDS",
                    "PRESENCE_SWEEP_SECONDS", "CAMPAIGN_REMIND_BEFORE_MINUTES"):
            if os.environ.get(key):
                out[key] = _env_int(key, 0)
        out["SOCKETIO_ASYNC_MODE"] = socketio_async_mode()
        for key in ("PRESENCE_TIMEOUT_SECONDS", "WALL_COALESCE_SECONDS", "WALL_SNAPSHOT_CACHE_SECONDS",
                    "WALL_TICK_SECONDS", "CHECKIN_UNDO_MINUTES"):
            if os.environ.get(key):
                out[key] = float(os.environ[key])
        if os.environ.get("ZOOM_WEBHOOK_SECRET_TOKEN"):
            out["ZOOM_WEBHOOK_SECRET_TOKEN"] = os.environ["ZOOM_WEBHOOK_SECRET_TOKEN"]
        return out

    @classmethod
    def validate(cls, config: dict) -> None:
        """Check the final configuration; development accepts anything."""


class DevelopmentConfig(Config):
    """`make run`: SQLite in instance/, scheduler in-process."""

    NAME = "development"


class TestingConfig(Config):
    """Tests: in-memory by default, no CSRF, no scheduler thread, no real mail."""

    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    SCHEDULER_ENABLED = False
    RATELIMIT_ENABLED = False
    MAIL_SERVER = None
    PUBLIC_BASE_URL = "https://launch.test"
    WALL_COALESCE_SECONDS = 0.0
    WALL_SNAPSHOT_CACHE_SECONDS = 0.0
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast tests; production keeps scrypt

    @classmethod
    def from_env(cls) -> dict:
        """Tests pick their database through TEST_DATABASE_URL only."""
        out: dict = {}
        if os.environ.get("TEST_DATABASE_URL"):
            out["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(os.environ["TEST_DATABASE_URL"])
        return out


class ProductionConfig(Config):
    """Scaled out: PostgreSQL, Redis, secure cookies, scheduler in its own process."""

    NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SCHEDULER_ENABLED = False  # the Procfile's `scheduler:` process runs it
    PREFERRED_URL_SCHEME = "https"
    PROXY_FIX = True  # served behind nginx (see README); set PROXY_FIX=0 if not

    @classmethod
    def validate(cls, config: dict) -> None:
        """Refuse to start with a missing or default secret: sessions and QR tokens depend on it."""
        key = config.get("SECRET_KEY")
        if not key or key in PUBLISHED_SECRET_KEYS:
            raise ConfigError(
                "SECRET_KEY is missing or is the development default. Set the SECRET_KEY "
                "environment variable to a long random value, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`. "
                "It signs sessions and QR check-in tokens."
            )
        if len(key) < 16:
            raise ConfigError("SECRET_KEY is too short: use at least 16 random characters.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    """The config class for `name`, or for LAUNCH_CONFIG, or development."""
    name = name or os.environ.get("LAUNCH_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"Unknown configuration {name!r}; choose one of {sorted(CONFIGS)}") from None
