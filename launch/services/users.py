"""Accounts: creation (CLI, demo data) and authentication."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from launch.clock import utcnow
from launch.extensions import db
from launch.models import User
from launch.models.users import ROLES
from launch.services import audit
from launch.services.directory import find_unit
from launch.services.errors import DomainError

#: scrypt is Werkzeug's default and a modern memory-hard algorithm.
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 8


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
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise DomainError(
            "weak_password", _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
        )
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


def hash_password(password: str) -> str:
    """Hash with the configured method (scrypt; tests use a cheap one to stay fast)."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", PASSWORD_METHOD))


def authenticate(username: str, password: str) -> User | None:
    """The enabled user with these credentials, or None (same answer for every failure)."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or not user.is_enabled:
        # Spend the same time as a real check so names cannot be probed by timing.
        check_password_hash(hash_password("not-a-real-password"), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_dt = utcnow()
    db.session.commit()
    return user

