"""Readiness of the invited points: host assigned, contact phone, connection test, QR sheet.

Live verdicts for the event page and the reminders; stored verdicts at the readiness tasks' stages
(the connection-test window opening, 15 minutes before the start), with a notice to the operators.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from launch.clock import local_text
from launch.extensions import db
from launch.models import Event, EventPoint, ScheduledTask
from launch.models.events import ReadinessCheck
from launch.services import notifications
from launch.services.events.queries import invited_points
from launch.services.recipients import hosts_by_unit, operators
from launch.signals import wall_change

CHECKS = ("host_assigned", "phone_present", "connection_tested", "qr_issued")
CHECK_LABELS = {
    "host_assigned": _l("Host assigned"),
    "phone_present": _l("Contact phone"),
    "connection_tested": _l("Connection test confirmed"),
    "qr_issued": _l("QR sheet printed"),
}
#: What a failed check means, as a notice or a checklist says what is still to do.
MISSING_LABELS = {
    "host_assigned": _l("no host assigned"),
    "phone_present": _l("no contact phone"),
    "connection_tested": _l("connection test not confirmed"),
    "qr_issued": _l("QR sheet not printed"),
}
STAGE_LABELS = {"test_window": _l("Opening of the connection test"), "t15": _l("15 minutes before the start")}
#: The last verdict is taken this long before the start (unless the test window opens later).
READINESS_LATE_STAGE_MINUTES = 15


def readiness_stages(event: Event) -> dict[str, datetime]:
    """When each stage's verdict is taken (a stage that does not apply to `event` is left out).

    A connection-test window of 15 minutes or less opens after T-15: its check at the opening is
    then the last one, and no separate T-15 check is taken (the tests could not have been made).
    """
    start, window = event.start_dt, timedelta(minutes=event.test_window_minutes or 0)
    late = timedelta(minutes=READINESS_LATE_STAGE_MINUTES)
    stages: dict[str, datetime] = {}
    if window:
        stages["test_window"] = start - window
    if not window or window > late:
        stages["t15"] = start - late
    return stages


def stage_notes(event: Event) -> dict[str, str]:
    """Why a stage is not taken for `event`, by stage (only the stages left out)."""
    planned = readiness_stages(event)
    notes = {}
    if "test_window" not in planned:
        notes["test_window"] = _("Not taken: this event has no connection-test window.")
    if "t15" not in planned:
        notes["t15"] = _("Not taken separately: the connection test opens %(n)d minutes before the start, so "
                         "the check at its opening is the last one.", n=event.test_window_minutes or 0)
    return notes


def missing_text(verdict: Verdict) -> str:
    """What a point still lacks, in words ("no contact phone, QR sheet not printed")."""
    return ", ".join(str(MISSING_LABELS[m]) for m in verdict.missing)


@dataclass
class Verdict:
    """A point's readiness: each check, and whether all pass."""

    point: EventPoint
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(self.checks.values())

    @property
    def missing(self) -> list[str]:
        return [k for k in CHECKS if not self.checks.get(k)]


def readiness(event: Event, points: list[EventPoint] | None = None) -> list[Verdict]:
    """Live verdict of every invited point (host assigned, phone, connection test, QR sheet)."""
    hosts = hosts_by_unit()
    verdicts = []
    for point in points if points is not None else invited_points(event):
        unit = point.unit
        verdicts.append(Verdict(point, {
            "host_assigned": bool(hosts.get(unit.id)) or bool((unit.host_name or "").strip()),
            "phone_present": bool((unit.host_phone or "").strip()),
            "connection_tested": point.connection_tested_dt is not None,
            "qr_issued": point.qr_issued_dt is not None,
        }))
    return verdicts


def stored_readiness(event: Event) -> dict[str, list[ReadinessCheck]]:
    """The verdicts stored by the readiness tasks, by stage."""
    rows = db.session.scalars(
        select(ReadinessCheck).where(ReadinessCheck.event_id == event.id)
        .options(selectinload(ReadinessCheck.event_point).selectinload(EventPoint.unit))
        .order_by(ReadinessCheck.stage, ReadinessCheck.is_ready, ReadinessCheck.event_point_id)
    )
    out: dict[str, list[ReadinessCheck]] = defaultdict(list)
    for row in rows:
        out[row.stage].append(row)
    return dict(out)


def record_readiness(event: Event, stage: str, now: datetime, *, task: ScheduledTask | None = None) -> list:
    """Store each invited point's verdict at `stage` and tell the operators which points are not ready.

    The caller commits; returns the announcements to make after the commit.
    """
    db.session.execute(ReadinessCheck.__table__.delete().where(
        ReadinessCheck.event_id == event.id, ReadinessCheck.stage == stage))
    verdicts = readiness(event)
    for v in verdicts:
        db.session.add(ReadinessCheck(event_id=event.id, event_point_id=v.point.id, stage=stage, checked_dt=now,
                                      is_ready=v.ready, **v.checks))
    not_ready = [v for v in verdicts if not v.ready]
    if not_ready:
        for user in operators():
            with force_locale(user.locale or "vi"):
                subject = _("%(n)d of %(total)d points not ready: %(title)s", n=len(not_ready),
                            total=len(verdicts), title=event.title)
                lines = [f"- {v.point.unit.name}: {missing_text(v)}" for v in not_ready[:60]]
                if len(not_ready) > 60:
                    lines.append(_("… and %(n)d more.", n=len(not_ready) - 60))
                body = _("Readiness at %(stage)s (start %(when)s). Still to do:", stage=STAGE_LABELS[stage],
                         when=local_text(event.start_dt)) + "\n" + "\n".join(lines)
            notifications.send_notice([user], subject, body, task=task, event_id=event.id, now=now)
    event_id, data = event.id, {"stage": stage, "ready": len(verdicts) - len(not_ready), "total": len(verdicts)}
    return [lambda: wall_change(event_id, "readiness", data=data)]
