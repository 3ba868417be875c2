"""Onboarding the hosts of an event in one go: an account per invited point's host, made from the
directory (name, phone, e-mail), and a one-time link for each account that never signed in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Event, EventPoint, Invitation, Unit, User, user_units
from launch.services import audit
from launch.services.accounts import EMAIL_PATTERN, issue_invitation, unusable_password, welcome_url
from launch.services.text import fold, split_division

ACTION_LABELS = {
    "create": _l("New account and invitation link"),
    "invite": _l("Existing account, never signed in: new invitation link"),
    "active": _l("Already signed in before: nothing to do"),
}


@dataclass
class OnboardingRow:
    """One point of the event and what onboarding does for its host."""

    point: EventPoint
    unit: Unit
    user: User | None
    username: str
    action: str  # create | invite | active
    warnings: list[str] = field(default_factory=list)
    secret: str | None = None
    invitation: Invitation | None = None

    @property
    def url(self) -> str | None:
        return welcome_url(self.secret) if self.secret else None


def _base_username(unit: Unit) -> str:
    _mark, short = split_division(unit.name, unit.division_type)
    base = re.sub(r"[^a-z0-9]", "", fold(short))
    return base if len(base) >= 2 else f"host{unit.code}"


def _host_accounts(unit_ids: list[int]) -> dict[int, User]:
    """The host account of each unit (the earliest made, among those acting for exactly that unit)."""
    rows = db.session.execute(
        select(user_units.c.unit_id, User).join(User, User.id == user_units.c.user_id)
        .where(user_units.c.unit_id.in_(unit_ids or [-1]), User.role == "host", User.is_enabled.is_(True))
        .order_by(User.created_dt, User.id)).all()
    out: dict[int, User] = {}
    for unit_id, user in rows:
        out.setdefault(unit_id, user)
    return out


def onboarding_plan(event: Event) -> list[OnboardingRow]:
    """For every point the event invites: its host's account (existing, or the one to make) and what
    to do (make it and invite, invite again, or nothing: it is in use)."""
    points = db.session.scalars(
        select(EventPoint).join(Unit, Unit.id == EventPoint.unit_id)
        .where(EventPoint.event_id == event.id, EventPoint.is_host.is_(False)).order_by(Unit.code)).all()
    accounts = _host_accounts([p.unit_id for p in points])
    taken = set(db.session.scalars(select(func.lower(User.username))))
    rows: list[OnboardingRow] = []
    for point in points:
        unit = point.unit
        user = accounts.get(unit.id)
        warnings = []
        if not (unit.host_name or "").strip():
            warnings.append(_("no host name in the directory"))
        if not (unit.host_phone or "").strip():
            warnings.append(_("no phone in the directory"))
        if not (unit.host_email or "").strip() and not (user and user.email):
            warnings.append(_("no e-mail address: e-mail notices will be skipped"))
        if user is not None:
            rows.append(OnboardingRow(point, unit, user, user.username,
                                      "active" if user.last_login_dt else "invite", warnings))
            continue
        username = _base_username(unit)
        if username in taken:
            username = f"{username}-{unit.code}"
        taken.add(username)
        rows.append(OnboardingRow(point, unit, None, username, "create", warnings))
    return rows


def onboard_hosts(event: Event, *, actor: User | None = None, now: datetime | None = None) -> list[OnboardingRow]:
    """Apply the plan in one transaction: an account per host from the directory (name, phone, e-mail)
    and a link for each account that never signed in. Returns the rows, with their secrets."""
    now = now or utcnow()
    rows = onboarding_plan(event)
    created = invited = 0
    try:
        for row in rows:
            unit = row.unit
            if row.action == "active":
                continue
            if row.action == "create":
                email = (unit.host_email or "").strip() or None
                if email and not EMAIL_PATTERN.match(email):
                    row.warnings.append(_("%(value)s is not an e-mail address.", value=email))
                    email = None
                row.user = User(username=row.username, role="host", units=[unit],
                                display_name=(unit.host_name or "").strip() or _("Host of %(unit)s", unit=unit.name),
                                email=email, phone=(unit.host_phone or "").strip() or None,
                                password_hash=unusable_password())
                db.session.add(row.user)
                db.session.flush()
                created += 1
            else:
                # Fill what the account lacks from the directory; never overwrite what was set on it.
                row.user.email = row.user.email or (unit.host_email or "").strip() or None
                row.user.phone = row.user.phone or (unit.host_phone or "").strip() or None
            row.invitation, row.secret = issue_invitation(row.user, "invite", actor=actor, event=event, now=now)
            invited += 1
        audit.record("accounts.onboarded", f"hosts of event {event.id} onboarded: {created} accounts created, "
                     f"{invited} links issued", user=actor, target=event,
                     details={"created": created, "invited": invited,
                              "skipped": sum(1 for r in rows if r.action == "active")})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return rows

