"""What the hosts of the invited points are told: reminders before the start, a move, a cancellation."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _

from launch.clock import local_text
from launch.models import Event, EventPoint, ScheduledTask, User
from launch.services import notifications
from launch.services.events.queries import invited_points
from launch.services.events.readiness import missing_text, readiness
from launch.services.recipients import point_hosts


def reminder_text(event: Event, user: User, points: list[EventPoint], offset: int) -> tuple[str, str]:
    """Subject and body of a reminder to one host, in the host's language."""
    with force_locale(user.locale or "vi"):
        if offset >= 60 and offset % 60 == 0:
            lead = _("in %(n)d hour(s)", n=offset // 60)
        else:
            lead = _("in %(n)d minute(s)", n=offset)
        subject = _("Reminder: %(title)s starts %(lead)s", title=event.title, lead=lead)
        lines = [
            _("“%(title)s” starts at %(when)s (Vietnam time).", title=event.title, when=local_text(event.start_dt)),
        ]
        if event.test_window_minutes:
            lines.append(_("Connection test from %(when)s.", when=local_text(
                event.start_dt - timedelta(minutes=event.test_window_minutes), "%H:%M")))
        if event.meeting_url:
            lines.append(_("Meeting link: %(url)s", url=event.meeting_url))
        if event.meeting_id:
            lines.append(_("Meeting ID: %(id)s", id=event.meeting_id)
                         + (" · " + _("Passcode: %(code)s", code=event.meeting_passcode)
                            if event.meeting_passcode else ""))
        lines.append(_("Your points and what is still needed:"))
        for verdict in readiness(event, points):
            endpoint = verdict.point.vc_endpoint or verdict.point.unit.vc_endpoint
            todo = missing_text(verdict) or _("ready")
            lines.append(f"- {verdict.point.unit.name}" + (f" ({endpoint})" if endpoint else "") + f": {todo}")
        lines.append(_("Check each point in by its QR code before %(when)s, or it is marked absent.",
                       when=local_text(event.start_dt + timedelta(minutes=event.absence_grace_minutes or 0), "%H:%M")))
    return subject, "\n".join(lines)


def send_reminders(event: Event, offset: int, now: datetime, *, task: ScheduledTask | None = None) -> None:
    """The reminder `offset` minutes before the start, to every host of the invited points (one notice
    each, listing their points). The caller commits."""
    for user, points in point_hosts(invited_points(event)).items():
        subject, body = reminder_text(event, user, points, offset)
        notifications.send_notice([user], subject, body, task=task, event_id=event.id, now=now)


def notify_hosts_moved(event: Event, old_start: datetime, now: datetime) -> None:
    """Tell each host of the invited points, in their language, that the event moved (caller commits)."""
    for user, _points in point_hosts(invited_points(event)).items():
        with force_locale(user.locale or "vi"):
            subject = _("Moved: %(title)s", title=event.title)
            body = _("The event “%(title)s” moved from %(old)s to %(new)s (until %(end)s).", title=event.title,
                     old=local_text(old_start), new=local_text(event.start_dt),
                     end=local_text(event.end_dt, "%H:%M %d/%m/%Y"))
        notifications.send_notice([user], subject, body, event_id=event.id, now=now)


def notify_hosts_cancelled(event: Event, reason: str | None, now: datetime) -> None:
    """Tell each host of the invited points, in their language, that the event is cancelled (caller commits)."""
    for user, _points in point_hosts(invited_points(event)).items():
        with force_locale(user.locale or "vi"):
            subject = _("Cancelled: %(title)s", title=event.title)
            body = _("The event “%(title)s” planned for %(when)s is cancelled.", title=event.title,
                     when=local_text(event.start_dt))
            if reason:
                body += "\n" + _("Reason: %(reason)s", reason=reason)
        notifications.send_notice([user], subject, body, event_id=event.id, now=now)
