"""Accounts: creation (CLI, demo data), the password policy, authentication and the session generation."""
from __future__ import annotations

import functools
import hmac
import re
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from launch.clock import utcnow
from launch.extensions import db
from launch.models import User
from launch.models.users import ROLES, new_session_token
from launch.services import audit
from launch.services.directory import find_unit
from launch.services.errors import DomainError
from launch.signals import sessions_end

#: scrypt is Werkzeug's default and a modern memory-hard algorithm.
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
#: Each role in words (pages, the audit log).
ROLE_LABELS = {"operator": _l("Operator"), "host": _l("Point host"), "viewer": _l("Viewer")}
#: What may follow a common password and still leave it common ("password2024!").
_TRAILING_DIGITS_OR_PUNCTUATION = re.compile(r"[\d\W_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords nobody should use (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """One character repeated, or a run like 23456789 / 98765432 / abcdefghij."""
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return steps in ({1}, {-1})


def check_password_policy(password: str | None, username: str | None = None) -> None:
    """Refuse short, common, sequential or user-name passwords (DomainError `weak_password`).

    Why a list and not composition rules: NIST SP 800-63B; the passwords that fall first are the
    common ones, whatever characters they mix.
    """
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError("weak_password",
                          _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError("weak_password",
                          _("The password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    lowered = password.lower()
    stem = _TRAILING_DIGITS_OR_PUNCTUATION.sub("", lowered)
    if (lowered in common_passwords() or stem in common_passwords() or _is_sequence(lowered)
            or (username and lowered == username.strip().lower())):
        raise DomainError("weak_password",
                          _("This password is too common or too easy to guess. Choose a longer phrase "
                            "of several words."))


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    display_name: str | None = None,
    unit_codes: list[str] | tuple[str, ...] = (),
    email: str | None = None,
    phone: str | None = None,
    actor: User | None = None,
) -> User:
    """Create an account; hosts must be given at least one unit."""
    username = (username or "").strip()
    if not username:
        raise DomainError("invalid_username", _("A user name is required."))
    if role not in ROLES:
        raise DomainError("invalid_role", _("Unknown role %(role)s.", role=role))
    check_password_policy(password, username)
    if db.session.scalar(select(User).where(User.username == username)):
        raise DomainError("duplicate_username", _("The user name %(name)s is taken.", name=username))
    units = []
    for code in unit_codes:
        unit = find_unit(code)
        if unit is None:
            raise DomainError("unknown_unit", _("Unknown unit code %(code)s.", code=code))
        units.append(unit)
    if role == "host" and not units:
        raise DomainError("host_without_unit", _("A host must be given at least one unit."))
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        email=email,
        phone=phone,
        units=units,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", f"user {username} ({role}) created", user=actor, target=user)
    db.session.commit()
    return user


def get_user_by_name(username: str) -> User:
    """The account called `username` (NotFound `unknown_user`)."""
    from launch.services.errors import NotFound

    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None:
        raise NotFound("unknown_user", _("There is no account %(name)s.", name=username))
    return user


def _method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", PASSWORD_METHOD)


def hash_password(password: str) -> str:
    """Hash with the configured method (scrypt; tests use a cheap one to stay fast)."""
    return generate_password_hash(password, method=_method())


@functools.cache
def _decoy_hash(method: str) -> str:
    """A hash of nothing anyone knows, made once per method: unknown names cost one check, like known ones."""
    import secrets

    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(username: str, password: str) -> User | None:
    """The enabled user with these credentials, or None (same answer for every failure).

    Every path hashes exactly once (an unknown or disabled name is checked against a decoy hash made
    once at first use), so which names exist cannot be told from the time an answer takes.
    """
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    stored = user.password_hash if user is not None else _decoy_hash(_method())
    matches = check_password_hash(stored, password or "")
    if user is None or not user.is_enabled or not matches:
        return None
    user.last_login_dt = utcnow()
    db.session.commit()
    return user


def set_locale(user: User, code: str) -> bool:
    """Keep the user's interface language (one of LANGUAGES); False (nothing saved) for another code."""
    if code not in current_app.config["LANGUAGES"]:
        return False
    if user.locale != code:
        user.locale = code
        db.session.commit()
    return True


def user_for_session_id(value: str | None) -> User | None:
    """The user behind a session or remember cookie's id "<id>:<generation>", if it is still current.

    An id without the generation (cookies made before sessions had one) or with an old one is refused:
    signing out, a password change or disabling the account replaced it.
    """
    user_id, sep, token = str(value or "").partition(":")
    if not sep or not token or not user_id.isdigit() or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.session_token or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session, remember cookie and open Socket.IO connection of `user` (commits).

    A new session generation makes every cookie issued before unreadable; the user's open sockets
    are closed on whichever process holds them.
    """
    user.session_token = new_session_token()
    db.session.commit()
    sessions_end(user.id)


def sign_out(user: User) -> None:
    """Signing out ends the session everywhere (the cookies copied before no longer open anything)."""
    audit.record("auth.signed_out", f"user {user.username} signed out", user=user, target=user)
    end_sessions(user)


def change_password(user: User, password: str, *, actor: User | None = None) -> None:
    """Set a new password (policy checked); every session of the user ends."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    audit.record("user.password_changed", f"password of {user.username} changed", user=actor, target=user)
    end_sessions(user)


def set_enabled(user: User, enabled: bool, *, actor: User | None = None) -> None:
    """Enable or disable an account; disabling ends its sessions, API tokens stop working with it."""
    if bool(user.is_enabled) == enabled:
        return
    user.is_enabled = enabled
    audit.record("user.enabled" if enabled else "user.disabled",
                 f"user {user.username} {'enabled' if enabled else 'disabled'}", user=actor, target=user)
    if enabled:
        db.session.commit()
    else:
        end_sessions(user)
