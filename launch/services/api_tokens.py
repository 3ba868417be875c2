"""Personal API tokens for other scanners and the IOC's systems (Authorization: Bearer ...).

A token is 32 random bytes shown once; only its SHA-256 is stored (a high-entropy secret needs no
slow hash). It acts as its owner, with the owner's role and scope, until revoked or the owner is
disabled. Bearer requests are exempt from CSRF: a browser never adds that header by itself.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from launch.clock import utcnow
from launch.extensions import db
from launch.models import ApiToken, User
from launch.models.users import user_units
from launch.services import audit
from launch.services.access import preload_unit_ids
from launch.services.errors import DomainError, NotFound

TOKEN_PREFIX = "qnl_"
#: last_used_dt is written at most this often per token (no write per scan).
TOUCH_EVERY = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it and the secret (shown once, never stored)."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise DomainError("invalid_input", _("Give the token a name (e.g. the scanner or system using it)."))
    if user.is_viewer:
        raise DomainError("forbidden", _("Viewers cannot make API tokens."), status=403)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:10])
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", f"API token {token.prefix}… ({name}) created", user=user, target=token,
                 details={"name": name, "prefix": token.prefix})
    db.session.commit()
    return token, secret


#: The token's owner, the token's facts and the owner's own unit ids (a row per unit), by digest, in
#: one read built once (see launch/services/checkin/statements.py for why).
_OWNER_BY_DIGEST = (select(User, ApiToken.id, ApiToken.token_hash, ApiToken.revoked_dt, ApiToken.last_used_dt,
                           user_units.c.unit_id)
                    .join(ApiToken, ApiToken.user_id == User.id)
                    .outerjoin(user_units, user_units.c.user_id == User.id)
                    .where(ApiToken.token_hash == bindparam("digest")))
_TOUCH = update(ApiToken.__table__).where(ApiToken.__table__.c.id == bindparam("token_id")).values(
    last_used_dt=bindparam("now"))


def authenticate_api_token(secret: str | None) -> User | None:
    """The enabled owner of an active token, or None (every API check-in asks: kept to two small reads)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = _hash(secret)
    rows = db.session.execute(_OWNER_BY_DIGEST, {"digest": digest}).all()
    if not rows:
        return None
    user, token_id, token_hash, revoked_dt, last_used_dt, _unit = rows[0]
    if not hmac.compare_digest(token_hash, digest) or revoked_dt is not None or not user.is_enabled:
        return None
    # The units they act for, as ids: what the scope checks need, without building the collection.
    preload_unit_ids(user, {row[5] for row in rows if row[5] is not None})
    now = utcnow()
    if last_used_dt is None or now - last_used_dt > TOUCH_EVERY:
        # In the request's own session (a second connection per request could exhaust the pool:
        # every request holding one and waiting for another). Rare: once per TOUCH_EVERY per token.
        db.session.connection().execute(_TOUCH, {"token_id": token_id, "now": now})
        db.session.commit()
    return user


def user_tokens(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_dt.desc(), ApiToken.id.desc())))


def revoke_api_token(token_id: int, user: User) -> ApiToken:
    """Revoke one of `user`'s tokens (operators may revoke anyone's); audited."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.is_operator):
        raise NotFound("unknown_token", _("This token does not exist."))
    if token.revoked_dt is None:
        token.revoked_dt = utcnow()
        audit.record("api_token.revoked", f"API token {token.prefix}… ({token.name}) revoked", user=user,
                     target=token, details={"name": token.name, "prefix": token.prefix})
        db.session.commit()
    return token
