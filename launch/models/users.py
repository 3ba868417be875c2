"""Accounts: operators, point hosts (scoped to units) and viewers, and their personal API tokens."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.units import Unit

ROLES = ("operator", "host", "viewer")


def new_session_token() -> str:
    """A fresh session generation: random, so an old cookie can never match a later one."""
    return secrets.token_urlsafe(24)

user_units = Table(
    "user_units",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A person who signs in. Hosts act only for their units (and those below them)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The session generation, part of Flask-Login's id in the session and remember cookies: replaced
    #: on sign-out, password change and disable, which ends every session and remember cookie issued before.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    units: Mapped[list[Unit]] = relationship(secondary=user_units, order_by="Unit.code")

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot sign in
        return bool(self.is_enabled)

    def get_id(self) -> str:
        """Flask-Login's alternative id "<id>:<session generation>" (the cookies carry it)."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    @property
    def is_host(self) -> bool:
        return self.role == "host"

    @property
    def is_viewer(self) -> bool:
        return self.role == "viewer"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
    """A personal API token for external scanners and the IOC's systems (Authorization: Bearer).

    Only the SHA-256 of the secret is stored; the secret is shown once, when the token is made.
    A token acts with its owner's role and scope, and is revoked by setting `revoked_dt`.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: Hex SHA-256 of the whole secret.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The secret's first characters, to tell tokens apart in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_dt is None
