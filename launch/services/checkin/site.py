"""Site check-in: a point checks in once per event, by its QR code or by hand (an operator, with a reason).

The write is a conditional UPDATE ... WHERE checked_in_dt IS NULL: two hosts scanning at once check
the point in once, and the second is told when and by whom.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, EventPoint, User
from launch.services import audit
from launch.services.checkin.rules import (
    CheckinRefused,
    CheckinResult,
    announce,
    audit_refusal,
    check_window,
    local_time,
    point_label,
    point_state,
    require_scope,
)
from launch.services.tokens import TokenError, read_site_token


def resolve_site_token(token: str, user: User, *, expected_event_id: int | None = None) -> EventPoint:
    """The point a QR token names, if it is valid, current and `user` may act for it (else refused)."""
    try:
        claim = read_site_token(token)
        if expected_event_id is not None and claim.event_id != expected_event_id:
            raise CheckinRefused("wrong_event", _("This QR code belongs to another event."),
                                 event_id=claim.event_id)
        point = db.session.get(EventPoint, claim.event_point_id)
        if point is None or point.event_id != claim.event_id:
            raise CheckinRefused("unknown_point", _("This connection point is no longer invited to the event."))
        if claim.version != point.token_version:
            raise CheckinRefused("revoked", _("This QR code was withdrawn. Ask the IOC for the new one."))
        require_scope(point, user)
    except (TokenError, CheckinRefused) as exc:
        audit_refusal(exc, user, token=(token or "")[:120])
        raise
    return point


def open_site_token(token: str, user: User, *, now: datetime | None = None) -> EventPoint:
    """The point behind a scanned QR, refused (and audited) if the token or the time is wrong.

    A point already checked in opens whatever the time: its host page says when and by whom.
    """
    point = resolve_site_token(token, user)
    if point.checked_in_dt is None:
        try:
            check_window(point.event, now or utcnow())
        except CheckinRefused as exc:
            audit_refusal(exc, user, point_id=point.id)
            raise
    return point


def check_in_site(token: str, user: User, *, method: str = "qr", expected_event_id: int | None = None,
                  now: datetime | None = None) -> CheckinResult:
    """Check a point in with its QR token: once per point per event; a repeat says when and by whom."""
    now = now or utcnow()
    point = resolve_site_token(token, user, expected_event_id=expected_event_id)
    try:
        check_window(point.event, now)
    except CheckinRefused as exc:
        audit_refusal(exc, user, point_id=point.id)
        raise
    return _record_site_checkin(point, user, method=method, reason=None, now=now)


def manual_site_checkin(point: EventPoint, user: User, reason: str, *, now: datetime | None = None) -> CheckinResult:
    """An operator checks a point in by hand (confirmed by phone), giving a reason; audited."""
    if not user.is_operator:
        raise CheckinRefused("operators_only", _("Only IOC operators can check a point in by hand."))
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise CheckinRefused("reason_required", _("Give the reason for the manual check-in."))
    return _record_site_checkin(point, user, method="manual", reason=reason, now=now or utcnow())


def _already_site(point: EventPoint) -> CheckinRefused:
    by = point.checked_in_by.display_name if point.checked_in_by else _("the IOC")
    return CheckinRefused(
        "already_checked_in",
        _("%(point)s was already checked in at %(time)s by %(by)s. Nothing changed.",
          point=point_label(point), time=local_time(point.checked_in_dt), by=by),
        checked_in_dt=iso(point.checked_in_dt), checked_in_by=by, point_id=point.id,
    )


def _record_site_checkin(point: EventPoint, user: User, *, method: str, reason: str | None,
                         now: datetime) -> CheckinResult:
    point_id, event_id = point.id, point.event_id
    done = db.session.execute(
        update(EventPoint)
        .where(EventPoint.id == point_id, EventPoint.checked_in_dt.is_(None))
        .values(checked_in_dt=now, checked_in_by_id=user.id, checkin_method=method, checkin_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        db.session.rollback()
        point = db.session.get(EventPoint, point_id)
        raise _already_site(point)
    data = {"unit": point.unit.name, "by": user.display_name, "method": method}
    db.session.add(Activity(event_id=event_id, event_point_id=point_id, kind="site_checkin", created_dt=now, data=data))
    audit.record(
        "checkin.manual" if method == "manual" else "checkin.site",
        f"{point.unit.name} checked in ({method})" + (f": {reason}" if reason else ""),
        user=user, target=point, details={"event_id": event_id, "method": method, "reason": reason},
    )
    db.session.commit()
    db.session.refresh(point)
    announce(event_id, "site_checkin", point_id, data)
    return CheckinResult(
        "checked_in",
        _("%(point)s is checked in at %(time)s.", point=point_label(point), time=local_time(now)),
        point_state(point),
    )


def revoke_point_qr(point: EventPoint, user: User) -> EventPoint:
    """Withdraw a point's QR (leaked): bump its token version; the others are untouched. Audited."""
    if not user.is_operator:
        raise CheckinRefused("operators_only", _("Only IOC operators can withdraw a QR code."))
    db.session.execute(
        update(EventPoint).where(EventPoint.id == point.id)
        .values(token_version=EventPoint.token_version + 1, qr_issued_dt=None)
        .execution_options(synchronize_session=False)
    )
    audit.record("checkin.qr_revoked", f"QR of {point.unit.name} withdrawn and re-issued", user=user, target=point,
                 details={"event_id": point.event_id, "old_version": point.token_version})
    db.session.commit()
    db.session.refresh(point)
    return point


def mark_qr_issued(points: list[EventPoint], *, now: datetime | None = None) -> int:
    """Note that these points' QR codes were downloaded or printed (the readiness check reads it)."""
    ids = [p.id for p in points if p.qr_issued_dt is None]
    if not ids:
        return 0
    count = db.session.execute(
        update(EventPoint).where(EventPoint.id.in_(ids), EventPoint.qr_issued_dt.is_(None))
        .values(qr_issued_dt=now or utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count
