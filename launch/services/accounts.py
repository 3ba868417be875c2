"""Accounts without the command line: an operator creates, edits, disables and resets accounts, and
onboards the hosts of every point of an event from the directory in one go.

A new account, or one whose password was reset, gets a one-time invitation link (and its QR) with
which its owner sets their own password before it expires; nobody else ever knows the password.
The link's secret is shown (printed) once; only its SHA-256 is stored, like API tokens. Issuing a
new link revokes the earlier ones of the same account.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select, update

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, Invitation, Unit, User, user_units
from launch.models.users import ROLES
from launch.services import audit
from launch.services.errors import DomainError, NotFound, ValidationFailed
from launch.services.text import fold
from launch.services.users import check_password_policy, end_sessions, hash_password

#: How long an onboarding link stays valid, and a password-reset link (configurable).
INVITATION_DAYS = 14
RESET_HOURS = 48
#: The path a link opens (the QR encodes PUBLIC_BASE_URL + this + the secret).
WELCOME_PATH = "/welcome/"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^[0-9+().\s-]{6,40}$")

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def unusable_password() -> str:
    """A password hash nobody knows: the account waits for its owner to set one with their link."""
    return hash_password(secrets.token_urlsafe(32))


def welcome_url(secret: str) -> str:
    """The address printed (and encoded in the QR) for one invitation."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{WELCOME_PATH}{secret}"


# --- listing ---------------------------------------------------------------------------------------

def accounts_query(q: str | None = None, role: str | None = None, state: str | None = None) -> Select:
    """Accounts matching a name, user name, e-mail or unit (diacritics ignored), by role and state."""
    stmt = select(User).order_by(User.role, User.username)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if state == "disabled":
        stmt = stmt.where(User.is_enabled.is_(False))
    elif state == "never":
        stmt = stmt.where(User.last_login_dt.is_(None), User.is_enabled.is_(True))
    elif state == "no_email":
        stmt = stmt.where(or_(User.email.is_(None), User.email == ""))
    for word in fold(q).split():
        pattern = f"%{word}%"
        in_units = select(user_units.c.user_id).join(Unit, Unit.id == user_units.c.unit_id).where(
            or_(Unit.search_name.like(pattern), Unit.code == word))
        stmt = stmt.where(or_(func.lower(User.username).like(pattern), func.lower(User.display_name).like(pattern),
                              func.lower(User.email).like(pattern), User.id.in_(in_units)))
    return stmt


def open_invitations(user_ids: list[int], now: datetime | None = None) -> dict[int, Invitation]:
    """The newest open (unused, unrevoked, unexpired) link of each account."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(Invitation).where(Invitation.user_id.in_(user_ids or [-1]), Invitation.used_dt.is_(None),
                                 Invitation.revoked_dt.is_(None), Invitation.expires_dt > now)
        .order_by(Invitation.created_dt)).all()
    return {inv.user_id: inv for inv in rows}


def get_account(user_id: int) -> User:
    """The account, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("unknown_user", _("This account does not exist."))
    return user


# --- creating and editing --------------------------------------------------------------------------

def _units_from_codes(raw: Any, errors: list[str]) -> list[Unit]:
    codes = raw if isinstance(raw, (list, tuple)) else re.split(r"[\s,;]+", str(raw or ""))
    units: list[Unit] = []
    for code in (c.strip() for c in codes):
        if not code:
            continue
        unit = db.session.scalar(select(Unit).where(Unit.code == code[:16]))
        if unit is None:
            errors.append(_("Unknown unit code %(code)s.", code=code[:16]))
        elif unit not in units:
            units.append(unit)
    return units


def _clean(data: dict[str, Any], errors: list[str], *, user: User | None = None) -> dict[str, Any]:
    """Checked account fields (every problem listed in `errors`, in the user's language)."""
    out: dict[str, Any] = {}
    if user is None:
        username = (data.get("username") or "").strip().lower()
        if not _USERNAME.match(username):
            errors.append(_("The user name must be 2 to 80 lower-case letters, digits, dots, dashes or "
                            "underscores, starting with a letter or digit."))
        elif db.session.scalar(select(User.id).where(func.lower(User.username) == username)):
            errors.append(_("The user name %(name)s is taken.", name=username))
        out["username"] = username
    name = " ".join((data.get("display_name") or "").split())
    if not name:
        errors.append(_("A name is required."))
    elif len(name) > 200:
        errors.append(_("The name is longer than 200 characters."))
    out["display_name"] = name
    role = data.get("role") or (user.role if user else "")
    if role not in ROLES:
        errors.append(_("Choose a role."))
    out["role"] = role
    email = (data.get("email") or "").strip()
    if email and (len(email) > 200 or not EMAIL_PATTERN.match(email)):
        errors.append(_("%(value)s is not an e-mail address.", value=email[:200]))
    out["email"] = email or None
    phone = " ".join((data.get("phone") or "").split())
    if phone and not _PHONE.match(phone):
        errors.append(_("%(value)s is not a phone number.", value=phone[:40]))
    out["phone"] = phone or None
    units = _units_from_codes(data.get("units", ""), errors)
    if role == "host" and not units:
        errors.append(_("A host must be given at least one unit."))
    out["units"] = units if role == "host" else []
    return out


def password_problem(password: str, confirm: str | None = None, username: str | None = None) -> str | None:
    """Why a chosen password is refused (the one password policy of users.check_password_policy), or None."""
    try:
        check_password_policy(password, username)
    except DomainError as exc:
        return str(exc.message)
    if confirm is not None and confirm != password:
        return _("The two passwords differ.")
    return None


def create_account(data: dict[str, Any], *, actor: User | None = None,
                   now: datetime | None = None) -> tuple[User, str | None]:
    """A new account. With a password (typed by the operator) it is ready; without one, its owner
    gets an invitation link: returns (user, the link's secret or None)."""
    errors: list[str] = []
    clean = _clean(data, errors)
    password = data.get("password") or ""
    if password and (problem := password_problem(password, username=clean.get("username"))):
        errors.append(problem)
    if errors:
        raise ValidationFailed("invalid_account", _("The account was not saved."), errors=errors)
    user = User(username=clean["username"], display_name=clean["display_name"], role=clean["role"],
                email=clean["email"], phone=clean["phone"], units=clean["units"],
                password_hash=hash_password(password) if password else unusable_password())
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", f"user {user.username} ({user.role}) created", user=actor, target=user,
                 details={"username": user.username, "role": user.role, "email": user.email, "phone": user.phone,
                          "units": [u.code for u in user.units]})
    secret = None
    if not password:
        _invitation, secret = issue_invitation(user, "invite", actor=actor, now=now)
    db.session.commit()
    return user, secret


def _describe(value: Any) -> Any:
    if isinstance(value, list):
        return [u.code if isinstance(u, Unit) else u for u in value]
    return value


def update_account(user: User, data: dict[str, Any], *, actor: User | None = None) -> dict[str, list]:
    """Change an account's name, role, e-mail, phone and units; audited from what to what."""
    errors: list[str] = []
    clean = _clean(data, errors, user=user)
    if actor is not None and actor.id == user.id and clean["role"] != user.role:
        errors.append(_("You cannot change your own role."))
    if errors:
        raise ValidationFailed("invalid_account", _("The account was not saved."), errors=errors)
    changes: dict[str, list] = {}
    for key, value in clean.items():
        old = getattr(user, key)
        if _describe(old) != _describe(value):
            changes[key] = [_describe(old), _describe(value)]
            setattr(user, key, value)
    if changes:
        audit.record("user.updated", f"user {user.username}: {', '.join(changes)} changed", user=actor, target=user,
                     details={"changes": changes})
    db.session.commit()
    return changes


def set_enabled(user: User, enabled: bool, *, actor: User | None = None, now: datetime | None = None) -> bool:
    """Disable (its sessions end, its open links are withdrawn) or enable an account; returns whether it changed."""
    if bool(user.is_enabled) == enabled:
        return False
    if not enabled:
        if actor is not None and actor.id == user.id:
            raise DomainError("cannot_disable_self", _("You cannot disable your own account."))
        if user.is_operator and _enabled_operators() <= 1:
            raise DomainError("last_operator", _("This is the last enabled operator: enable another one first."))
    user.is_enabled = enabled
    audit.record("user.enabled" if enabled else "user.disabled",
                 f"user {user.username} {'enabled' if enabled else 'disabled'}", user=actor, target=user,
                 details={"changes": {"is_enabled": [not enabled, enabled]}})
    if enabled:
        db.session.commit()
    else:
        _revoke_open(user, now or utcnow())
        end_sessions(user)  # commits the change, then closes the user's sockets
    return True


def _enabled_operators() -> int:
    return db.session.scalar(select(func.count()).select_from(User)
                             .where(User.role == "operator", User.is_enabled.is_(True))) or 0


def reset_password(user: User, *, actor: User | None = None, now: datetime | None = None) -> str:
    """Forget the password (it stops working now), end the sessions, and give a link to set a new one.

    Returns the link's secret (shown once)."""
    if not user.is_enabled:
        raise DomainError("account_disabled", _("Enable the account before resetting its password."))
    user.password_hash = unusable_password()
    audit.record("user.password_reset", f"password of {user.username} reset", user=actor, target=user)
    _invitation, secret = issue_invitation(user, "reset", actor=actor, now=now)
    end_sessions(user)  # commits the reset and the link together, then closes the user's sockets
    return secret


# --- invitation links -----------------------------------------------------------------------------

def _revoke_open(user: User, now: datetime) -> int:
    result = db.session.execute(
        update(Invitation).where(Invitation.user_id == user.id, Invitation.used_dt.is_(None),
                                 Invitation.revoked_dt.is_(None)).values(revoked_dt=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


def issue_invitation(user: User, purpose: str, *, actor: User | None = None, event: Event | None = None,
                     now: datetime | None = None) -> tuple[Invitation, str]:
    """A new one-time link for `user` (earlier open ones stop working); the caller commits."""
    now = now or utcnow()
    _revoke_open(user, now)
    if purpose == "reset":
        valid = timedelta(hours=current_app.config.get("RESET_LINK_HOURS", RESET_HOURS))
    else:
        valid = timedelta(days=current_app.config.get("INVITATION_DAYS", INVITATION_DAYS))
    secret = secrets.token_urlsafe(24)
    invitation = Invitation(user_id=user.id, token_hash=_hash(secret), purpose=purpose, created_dt=now,
                            expires_dt=now + valid, created_by_id=actor.id if actor else None,
                            event_id=event.id if event else None)
    db.session.add(invitation)
    db.session.flush()
    audit.record("user.invited", f"{purpose} link for {user.username} issued", user=actor, target=user,
                 details={"purpose": purpose, "expires": invitation.expires_dt.isoformat()})
    return invitation, secret


def find_invitation(secret: str, now: datetime | None = None) -> Invitation:
    """The open invitation of a link, or a DomainError saying why it cannot be used."""
    now = now or utcnow()
    invitation = None
    if secret and len(secret) <= 100:
        invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(secret)))
    if invitation is None:
        raise DomainError("invalid_link", _("This link is not valid. Ask the IOC for a new one."), status=404)
    if invitation.used_dt is not None:
        raise DomainError("link_used", _("This link was already used to set a password. Sign in with it, or ask "
                                         "the IOC for a new link."), status=410)
    if invitation.revoked_dt is not None:
        raise DomainError("link_replaced", _("This link was replaced by a newer one or withdrawn. Use the newest "
                                             "link you were given."), status=410)
    if now >= invitation.expires_dt:
        raise DomainError("link_expired", _("This link expired. Ask the IOC for a new one."), status=410)
    if not invitation.user.is_enabled:
        raise DomainError("account_disabled", _("This account is disabled. Ask the IOC."), status=410)
    return invitation


def accept_invitation(secret: str, password: str, confirm: str, *, now: datetime | None = None) -> User:
    """Set the password with a link (once); the link is spent."""
    now = now or utcnow()
    invitation = find_invitation(secret, now)
    if problem := password_problem(password, confirm, invitation.user.username):
        raise ValidationFailed("weak_password", problem, errors=[problem])
    # Spent atomically: two submissions of one link cannot both set a password.
    spent = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.used_dt.is_(None),
                                 Invitation.revoked_dt.is_(None)).values(used_dt=now)
        .execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        db.session.rollback()
        raise DomainError("link_used", _("This link was already used to set a password."), status=410)
    user = invitation.user
    user.password_hash = hash_password(password)
    user.last_login_dt = now  # the link signs its owner in
    audit.record("user.password_set", f"{user.username} set a password with an {invitation.purpose} link",
                 user=user, target=user, details={"purpose": invitation.purpose})
    db.session.commit()
    return user
