"""Signed tokens of a point and a person: the point's QR (event, point, token version), the attendee's
badge, and the presence token the point's host page presents on its Socket.IO connection.

All are signed with the app's SECRET_KEY (itsdangerous, one salt each), so a changed character is
detected. Neither carries its own expiry: the validity window is computed at check time from the
event (see `launch.services.checkin.rules.check_window`), so moving the event moves the window, and
bumping `EventPoint.token_version` revokes every QR printed before.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from launch.models import EventPoint
from launch.models.checkins import Attendee
from launch.services.errors import DomainError

SITE_SALT = "launch.checkin.site.v1"
BADGE_SALT = "launch.checkin.badge.v1"
PRESENCE_SALT = "launch.presence"
#: Badge QR codes start with this, so a scanner tells a badge from any other QR.
BADGE_PREFIX = "QNB1."


class TokenError(DomainError):
    """A token that is not ours or was altered (`invalid_token`)."""

    status = 400


@dataclass(frozen=True)
class SiteClaim:
    """What a valid point QR says."""

    event_id: int
    event_point_id: int
    version: int


@dataclass(frozen=True)
class BadgeClaim:
    """What a valid badge QR says."""

    event_id: int
    badge_code: str


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def site_token(point: EventPoint) -> str:
    """The signed token of a point's QR (event, point, current token version)."""
    return _serializer(SITE_SALT).dumps([point.event_id, point.id, point.token_version])


def site_url(point: EventPoint) -> str:
    """The HTTPS check-in address a point's QR encodes (any phone camera opens it)."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/c/{site_token(point)}"


def read_site_token(token: str) -> SiteClaim:
    """The claim of a point token, or TokenError(`invalid_token`) if forged or altered."""
    try:
        data = _serializer(SITE_SALT).loads((token or "").strip())
        event_id, point_id, version = (int(x) for x in data)
    except (BadSignature, TypeError, ValueError):
        message = _("This QR code is not valid: it was not issued by us or was altered.")
        raise TokenError("invalid_token", message) from None
    return SiteClaim(event_id, point_id, version)


def badge_token(attendee: Attendee) -> str:
    """The signed content of a person's badge QR: event id and the random badge code."""
    return BADGE_PREFIX + _serializer(BADGE_SALT).dumps([attendee.event_id, attendee.badge_code])


def read_badge_token(token: str) -> BadgeClaim:
    """The claim of a badge, or TokenError(`invalid_token`)."""
    token = (token or "").strip()
    if token.startswith(BADGE_PREFIX):
        token = token[len(BADGE_PREFIX):]
    try:
        event_id, code = _serializer(BADGE_SALT).loads(token)
        event_id, code = int(event_id), str(code)
    except (BadSignature, TypeError, ValueError):
        message = _("This badge is not valid: it was not issued by us or was altered.")
        raise TokenError("invalid_token", message) from None
    return BadgeClaim(event_id, code)
