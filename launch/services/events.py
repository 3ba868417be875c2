"""Launch events: creation and edits, the lifecycle, readiness, reminders, absence, and their tasks.

Lifecycle: draft -> scheduled -> testing (connection-test window) -> live -> ended; or cancelled.
Scheduling an event plans its tasks (rows run by the scheduler, see `launch.jobs.event_tasks`):

- `event.state` {"to": testing|live|ended}: at start - test window, at start, at end;
- `event.readiness` {"stage": test_window|t15}: verdict per invited point, stored (`ReadinessCheck`);
- `event.reminder` {"offset": minutes}: a notice to the hosts of the invited points;
- `event.absence`: at start + grace, invited points not checked in are flagged absent.

Reminders and readiness checks are perishable (recorded missed when found past the grace); state
changes and the absence check always run, even late. Moving an event moves its pending tasks;
cancelling cancels them and tells the hosts.
"""
from __future__ import annotations

import calendar as _calendar
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from launch.clock import as_utc, parse_local_dt, to_local, utcnow
from launch.extensions import db
from launch.models import Activity, AgendaItem, Event, EventPoint, ScheduledTask, Unit, User, user_units
from launch.models.events import EVENT_STATES, ReadinessCheck
from launch.models.units import LEVELS
from launch.services import audit, notifications, scheduling
from launch.services.access import can_read_all, scoped_unit_ids
from launch.services.errors import DomainError, NotFound, ValidationFailed
from launch.services.notifications import valid_http_url
from launch.signals import wall_change

STATE_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "testing": _l("Connection test"),
    "live": _l("Live"),
    "ended": _l("Ended"),
    "cancelled": _l("Cancelled"),
}
#: Forward order of the lifecycle (cancelled is off the line).
STATE_ORDER = {"draft": 0, "scheduled": 1, "testing": 2, "live": 3, "ended": 4}
TERMINAL_STATES = ("ended", "cancelled")
#: Moves an operator may make by hand (cancelling has its own action, with a reason).
MANUAL_MOVES = {"draft": ("scheduled",), "scheduled": ("testing", "live"), "testing": ("live",), "live": ("ended",)}
CHECKS = ("host_assigned", "phone_present", "connection_tested", "qr_issued")
CHECK_LABELS = {
    "host_assigned": _l("Host assigned"),
    "phone_present": _l("Contact phone"),
    "connection_tested": _l("Connection test confirmed"),
    "qr_issued": _l("QR sheet printed"),
}
STAGE_LABELS = {"test_window": _l("Opening of the connection test"), "t15": _l("15 minutes before the start")}
TASK_LABELS = {
    "event.state": _l("State change"),
    "event.readiness": _l("Readiness check"),
    "event.reminder": _l("Reminder"),
    "event.absence": _l("Absence check"),
}
READINESS_LATE_STAGE_MINUTES = 15
#: Task kinds with no point once their time is past: not planned then (the runner records them missed).
PERISHABLE_TASKS = ("event.reminder", "event.readiness")
MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_OFFSETS = 10
DEMO_TITLE = "Lễ phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi"


@dataclass
class FieldError:
    """One refused input: `code` for machines and tests, `message` (translated) for people."""

    code: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return str(self.message)


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed("invalid_event", _("The event was not saved."), errors=errors,
                               codes=[e.code for e in errors])


# --- parsing helpers (the web layer and the service share them) --------------------------------------


_OFFSET_RE = re.compile(r"^(\d{1,6})\s*(m|min|h|d)?$")


def parse_offsets(value: Any) -> list[int] | None:
    """Reminder offsets in minutes before the start: [1440, 60, 15], "1440, 60, 15" or "24h 1h 15m".

    Returns them distinct and sorted (earliest reminder first), or None when malformed or out of range.
    """
    if value is None:
        return None
    tokens = [t for t in re.split(r"[,;\s]+", value.strip().lower()) if t] if isinstance(value, str) else list(value)
    out: set[int] = set()
    for token in tokens:
        if isinstance(token, bool):
            return None
        if isinstance(token, int):
            minutes = token
        else:
            match = _OFFSET_RE.match(str(token).strip().lower())
            if not match:
                return None
            minutes = int(match.group(1)) * {"h": 60, "d": 1440}.get(match.group(2) or "m", 1)
        if not 1 <= minutes <= MAX_OFFSET_MINUTES:
            return None
        out.add(minutes)
    if len(out) > MAX_OFFSETS:
        return None
    return sorted(out, reverse=True)


def format_offset(minutes: int) -> str:
    """1440 -> "24h", 60 -> "1h", 15 -> "15m" (the form's own notation)."""
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


_AGENDA_TIME_RE = re.compile(r"^(\d{1,2})[:hH.](\d{2})$")


def parse_agenda_text(text: str) -> list[dict[str, Any]]:
    """One item a line: `08:00 | Khai mạc | Presenter` (time and presenter optional)."""
    items = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 2 and (_AGENDA_TIME_RE.match(parts[0]) or parts[0] == ""):
            items.append({"time": parts[0], "title": parts[1], "presenter": " | ".join(parts[2:]) or None})
        elif _AGENDA_TIME_RE.match(line.split(" ", 1)[0]) and " " in line:
            time_part, title = line.split(" ", 1)
            items.append({"time": time_part, "title": title.strip(), "presenter": None})
        else:
            items.append({"time": "", "title": parts[0], "presenter": " | ".join(parts[1:]) or None})
    return items


def agenda_text(event: Event) -> str:
    """The agenda back in the form's notation."""
    lines = []
    for item in event.agenda:
        local = to_local(item.starts_dt)
        lines.append(" | ".join(x for x in (local.strftime("%H:%M") if local else "", item.title,
                                            item.presenter or "") if x is not None).rstrip(" |"))
    return "\n".join(lines)


def _int_in(value: Any, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


# --- reading -------------------------------------------------------------------------------------


def get_event(event_id: int) -> Event:
    """The event or NotFound."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound("unknown_event", _("This event does not exist."))
    return event


def province_unit() -> Unit | None:
    """The province: the IOC, the default host point."""
    return db.session.scalar(select(Unit).where(Unit.level == "province").order_by(Unit.code))


def invited_points(event: Event) -> list[EventPoint]:
    """The invited points (not the host), with their units, ordered by level then code."""
    return list(db.session.scalars(
        select(EventPoint).join(Unit)
        .where(EventPoint.event_id == event.id, EventPoint.is_host.is_(False))
        .options(selectinload(EventPoint.unit).selectinload(Unit.parent))
        .order_by(Unit.level.desc(), Unit.code)
    ))


def visible_events_query(user: User, *, state: str | None = None, when: str | None = None,
                         now: datetime | None = None) -> Select:
    """Events the user may see: all for operators and viewers; hosts those inviting their points (no drafts)."""
    now = now or utcnow()
    stmt = select(Event)
    scope = None if can_read_all(user) else scoped_unit_ids(user)
    if scope is not None:
        stmt = stmt.where(Event.state != "draft", Event.id.in_(
            select(EventPoint.event_id).where(EventPoint.unit_id.in_(scope or {-1}))))
    if state in EVENT_STATES:
        stmt = stmt.where(Event.state == state)
    if when == "upcoming":
        stmt = stmt.where(Event.end_dt >= now, Event.state != "cancelled").order_by(Event.start_dt, Event.id)
    elif when == "past":
        stmt = stmt.where(or_(Event.end_dt < now, Event.state.in_(TERMINAL_STATES))).order_by(
            Event.start_dt.desc(), Event.id.desc())
    else:
        stmt = stmt.order_by(Event.start_dt.desc(), Event.id.desc())
    return stmt


def can_view(user: User, event: Event) -> bool:
    """Operators and viewers see every event; hosts the non-draft ones inviting their points."""
    if can_read_all(user):
        return True
    scope = scoped_unit_ids(user)
    if event.state == "draft" or not scope:
        return False
    return db.session.scalar(
        select(EventPoint.id).where(EventPoint.event_id == event.id, EventPoint.unit_id.in_(scope)).limit(1)
    ) is not None


def user_points(user: User, event: Event) -> list[EventPoint]:
    """The event's points a host acts for (all of them for operators)."""
    points = invited_points(event)
    if can_read_all(user):
        return points
    scope = scoped_unit_ids(user)
    return [p for p in points if p.unit_id in scope]


def upcoming_for(user: User, now: datetime | None = None, limit: int = 5) -> list[Event]:
    """The next events the user takes part in (or, for operators and viewers, all the next ones)."""
    return list(db.session.scalars(visible_events_query(user, when="upcoming", now=now).limit(limit)))


def calendar_month(user: User, year: int, month: int) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of {"day": date, "in_month": bool, "events": [...]} in local time."""
    weeks = _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    start_utc = as_utc(datetime.combine(first, time.min))
    end_utc = as_utc(datetime.combine(last + timedelta(days=1), time.min))
    stmt = visible_events_query(user).where(Event.start_dt >= start_utc, Event.start_dt < end_utc)
    by_day: dict[date, list[Event]] = defaultdict(list)
    for event in db.session.scalars(stmt):
        by_day[to_local(event.start_dt).date()].append(event)
    for events in by_day.values():
        events.sort(key=lambda e: e.start_dt)
    return [[{"day": d, "in_month": d.month == month, "events": by_day.get(d, [])} for d in week]
            for week in weeks]


# --- readiness --------------------------------------------------------------------------------------


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


def _host_users_by_unit() -> dict[int, list[User]]:
    rows = db.session.execute(
        select(user_units.c.unit_id, User).join(User, User.id == user_units.c.user_id)
        .where(User.role == "host", User.is_enabled.is_(True))
        .order_by(User.id)
    ).all()
    out: dict[int, list[User]] = defaultdict(list)
    for unit_id, user in rows:
        out[unit_id].append(user)
    return out


def readiness(event: Event, points: list[EventPoint] | None = None) -> list[Verdict]:
    """Live verdict of every invited point (host assigned, phone, connection test, QR sheet)."""
    hosts = _host_users_by_unit()
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


def host_recipients(event: Event) -> dict[User, list[EventPoint]]:
    """Host users of the invited points (of the point's unit or its district) -> their points."""
    hosts = _host_users_by_unit()
    out: dict[User, list[EventPoint]] = {}
    for point in invited_points(event):
        for unit_id in (point.unit_id, point.unit.parent_id):
            for user in hosts.get(unit_id, ()) if unit_id else ():
                points = out.setdefault(user, [])
                if point not in points:
                    points.append(point)
    return out


def operators() -> list[User]:
    """Enabled operator accounts (they receive the operational notices)."""
    return list(db.session.scalars(
        select(User).where(User.role == "operator", User.is_enabled.is_(True)).order_by(User.id)))


# --- creating and editing --------------------------------------------------------------------------


def _resolve_units(values: Any, errors: list[FieldError]) -> list[Unit]:
    """Unit ids (int) or codes (text) -> units; an unknown one is an error naming it."""
    units: list[Unit] = []
    unknown: list[str] = []
    tokens = re.split(r"[,;\s]+", values.strip()) if isinstance(values, str) else list(values or [])
    for token in tokens:
        if isinstance(token, int) and not isinstance(token, bool):  # an id
            unit = db.session.get(Unit, token)
        else:  # a code
            token = str(token).strip()
            if not token:
                continue
            unit = db.session.scalar(select(Unit).where(Unit.code == token)) if token.isdigit() else None
        if unit is None:
            unknown.append(str(token))
        elif unit not in units:
            units.append(unit)
    if unknown:
        errors.append(FieldError("unknown_point", _("These connection points do not exist: %(codes)s.",
                                                     codes=", ".join(unknown[:20])), "invite"))
    return units


def _selected_units(invite: dict[str, Any] | None, host: Unit | None, errors: list[FieldError]) -> list[Unit]:
    """The invited units: all (default), or the union of chosen districts, levels and single points."""
    invite = invite or {}
    mode = invite.get("mode") or "all"
    if mode == "all":
        units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
    elif mode == "select":
        chosen: dict[int, Unit] = {}
        districts = _resolve_units(invite.get("districts") or [], errors)
        for district in districts:
            if district.level != "district":
                errors.append(FieldError("unknown_point", _("%(name)s is not a district.", name=district.name),
                                         "invite"))
                continue
            chosen[district.id] = district
            for child in db.session.scalars(select(Unit).where(Unit.parent_id == district.id)):
                chosen[child.id] = child
        levels = [lv for lv in (invite.get("levels") or []) if lv]
        bad_levels = [lv for lv in levels if lv not in LEVELS]
        if bad_levels:
            errors.append(FieldError("bad_level", _("Unknown level %(level)s.", level=", ".join(bad_levels)),
                                     "invite"))
        good_levels = [lv for lv in levels if lv in LEVELS]
        if good_levels:
            for unit in db.session.scalars(select(Unit).where(Unit.level.in_(good_levels))):
                chosen[unit.id] = unit
        for unit in _resolve_units(invite.get("units") or [], errors):
            chosen[unit.id] = unit
        units = sorted(chosen.values(), key=lambda u: u.code)
    else:
        errors.append(FieldError("bad_invite", _("Choose all points or a selection."), "invite"))
        return []
    units = [u for u in units if host is None or u.id != host.id]
    if not units and not any(e.field == "invite" for e in errors):
        errors.append(FieldError("no_points", _("Invite at least one connection point."), "invite"))
    return units


def _clean(data: dict[str, Any], *, event: Event | None, now: datetime) -> tuple[dict[str, Any], list[FieldError]]:
    """Check every field; returns the clean values and every problem found."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    get = data.get

    def current(key: str) -> Any:
        return getattr(event, key) if event is not None else None

    title = (get("title") if "title" in data else current("title")) or ""
    title = title.strip()
    if not title:
        errors.append(FieldError("title_required", _("A title is required."), "title"))
    elif len(title) > 300:
        errors.append(FieldError("too_long", _("The title is longer than 300 characters."), "title"))
    clean["title"] = title
    if "description" in data or event is None:
        description = (get("description") or "").strip() or None
        if description and len(description) > 10000:
            errors.append(FieldError("too_long", _("The description is too long."), "description"))
        clean["description"] = description

    start = parse_local_dt(get("start")) if "start" in data else current("start_dt")
    end = parse_local_dt(get("end")) if "end" in data else current("end_dt")
    if start is None:
        errors.append(FieldError("bad_start", _("Give the start as a date and time."), "start"))
    if end is None:
        errors.append(FieldError("bad_end", _("Give the end as a date and time."), "end"))
    if start and end:
        if end <= start:
            errors.append(FieldError("end_before_start", _("The end must be after the start."), "end"))
        elif end - start > timedelta(days=2):
            errors.append(FieldError("too_long", _("An event lasts at most two days."), "end"))
        moved = event is None or start != event.start_dt
        if moved and start <= now:
            errors.append(FieldError("start_in_past", _("The start must be in the future."), "start"))
    clean["start_dt"], clean["end_dt"] = start, end

    for key, low, high, code, message in (
        ("test_window_minutes", 0, 24 * 60, "bad_test_window",
         _("The connection-test window must be 0 to 1440 minutes.")),
        ("absence_grace_minutes", 0, 12 * 60, "bad_grace", _("The absence grace must be 0 to 720 minutes.")),
    ):
        if key in data and get(key) not in (None, ""):
            number = _int_in(get(key), low, high)
            if number is None:
                errors.append(FieldError(code, message, key))
            clean[key] = number
        elif event is None:
            clean[key] = {"test_window_minutes": 60, "absence_grace_minutes": 10}[key]

    if "reminder_offsets" in data:
        offsets = parse_offsets(get("reminder_offsets"))
        if offsets is None:
            errors.append(FieldError(
                "bad_offsets",
                _("Reminder offsets must be up to %(n)d numbers of minutes (or 24h, 15m) between 1 minute "
                  "and 30 days, e.g. 24h, 1h, 15m.", n=MAX_OFFSETS),
                "reminder_offsets"))
        clean["reminder_offsets"] = offsets
    elif event is None:
        clean["reminder_offsets"] = [24 * 60, 60, 15]

    for key, limit in (("meeting_url", 500), ("meeting_id", 100), ("meeting_passcode", 100)):
        if key in data or event is None:
            value = (get(key) or "").strip() or None
            if value and len(value) > limit:
                errors.append(FieldError("too_long", _("%(field)s is too long.", field=key), key))
            clean[key] = value
    if clean.get("meeting_url") and not valid_http_url(clean["meeting_url"]):
        errors.append(FieldError("bad_meeting_url",
                                 _("The meeting link must be a full http:// or https:// address."), "meeting_url"))

    host = current("host_unit")
    if "host_unit_id" in data and get("host_unit_id") not in (None, ""):
        host_id = _int_in(get("host_unit_id"), 1, 2**31)
        host = db.session.get(Unit, host_id) if host_id else None
        if host is None:
            errors.append(FieldError("unknown_host", _("The host point does not exist."), "host_unit_id"))
    elif event is None:
        host = province_unit()
        if host is None:
            errors.append(FieldError("unknown_host", _("Load the directory first: there is no province (IOC)."),
                                     "host_unit_id"))
    clean["host_unit"] = host

    if "agenda" in data:
        raw = get("agenda")
        items = parse_agenda_text(raw) if isinstance(raw, str) else list(raw or [])
        agenda = []
        local_day = to_local(start).date() if start else None
        for number, item in enumerate(items, 1):
            item_title = (item.get("title") or "").strip()
            presenter = (item.get("presenter") or "").strip() or None
            when = item.get("time")
            starts = None
            if isinstance(when, datetime):
                starts = as_utc(when)
            elif when:
                match = _AGENDA_TIME_RE.match(str(when).strip())
                if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59 or local_day is None:
                    errors.append(FieldError("bad_agenda", _("Agenda item %(n)d: give the time as HH:MM.", n=number),
                                             "agenda"))
                else:
                    starts = as_utc(datetime.combine(local_day, time(int(match.group(1)), int(match.group(2)))))
            if not item_title:
                errors.append(FieldError("bad_agenda", _("Agenda item %(n)d has no title.", n=number), "agenda"))
            elif len(item_title) > 300 or (presenter and len(presenter) > 200):
                errors.append(FieldError("bad_agenda", _("Agenda item %(n)d is too long.", n=number), "agenda"))
            agenda.append({"starts_dt": starts, "title": item_title, "presenter": presenter})
        clean["agenda"] = agenda

    if event is None or (data.get("invite") or {}).get("mode") not in (None, "", "keep"):
        clean["units"] = _selected_units(data.get("invite"), host, errors)

    if "attendance" in data:
        attendance = {}
        for key, value in (data.get("attendance") or {}).items():
            number = _int_in(value, 0, 1_000_000)
            if number is None:
                errors.append(FieldError("bad_attendance",
                                         _("Expected attendance must be a whole number of 0 or more."), "attendance"))
            else:
                attendance[int(key)] = number
        clean["attendance"] = attendance
    return clean, errors


def _apply_agenda(event: Event, agenda: list[dict[str, Any]]) -> None:
    event.agenda.clear()
    db.session.flush()
    for position, item in enumerate(agenda):
        event.agenda.append(AgendaItem(position=position, **item))


def _remove_point(event: Event, point: EventPoint, removed: list[str]) -> None:
    if point.checked_in_dt is not None:
        raise ValidationFailed("invalid_event", _("The event was not saved."), errors=[FieldError(
            "point_in_use", _("%(name)s has already checked in: it cannot be removed.", name=point.unit.name),
            "invite")], codes=["point_in_use"])
    event.points.remove(point)
    removed.append(point.unit.code)


def _apply_points(event: Event, host: Unit | None, units: list[Unit] | None, attendance: dict[int, int]) -> dict:
    """Make the event's points match the host and the invited units (None: keep them); returns what changed."""
    existing = {p.unit_id: p for p in event.points}
    wanted = {u.id for u in units} if units is not None else None
    added: list[str] = []
    removed: list[str] = []
    for unit_id, point in list(existing.items()):
        if point.is_host and (host is None or unit_id != host.id):  # the host point moved elsewhere
            if wanted is not None and unit_id in wanted:
                point.is_host = False
            else:
                _remove_point(event, point, removed)
                del existing[unit_id]
    if host is not None:
        point = existing.get(host.id)
        if point is None:
            point = EventPoint(unit=host, expected_attendance=host.expected_attendance or 0)
            event.points.append(point)
            existing[host.id] = point
        point.is_host = True
    if units is not None:
        for unit in units:
            if unit.id not in existing:
                point = EventPoint(unit=unit, expected_attendance=unit.expected_attendance or 0)
                event.points.append(point)
                existing[unit.id] = point
                added.append(unit.code)
        for unit_id, point in list(existing.items()):
            if not point.is_host and unit_id not in wanted:
                _remove_point(event, point, removed)
    for point in event.points:
        unit_id = point.unit.id if point.unit is not None else point.unit_id
        if unit_id in attendance:
            point.expected_attendance = attendance[unit_id]
    return {"added": added, "removed": removed}


def create_event(data: dict[str, Any], *, actor: User | None = None, now: datetime | None = None,
                 publish: bool = False) -> Event:
    """Create an event (a draft, or scheduled at once with `publish`); every input checked, nothing saved on error."""
    now = now or utcnow()
    clean, errors = _clean(data, event=None, now=now)
    _refuse(errors)
    event = Event(title=clean["title"], description=clean["description"], start_dt=clean["start_dt"],
                  end_dt=clean["end_dt"], state="draft", state_changed_dt=now, host_unit=clean["host_unit"],
                  meeting_url=clean["meeting_url"], meeting_id=clean["meeting_id"],
                  meeting_passcode=clean["meeting_passcode"], test_window_minutes=clean["test_window_minutes"],
                  absence_grace_minutes=clean["absence_grace_minutes"], reminder_offsets=clean["reminder_offsets"],
                  created_by_id=actor.id if actor else None)
    db.session.add(event)
    _apply_agenda(event, clean.get("agenda") or [])
    _apply_points(event, clean["host_unit"], clean["units"], clean.get("attendance") or {})
    db.session.flush()
    audit.record("event.created", f"event {event.id} {event.title!r} created for "
                 f"{to_local(event.start_dt):%d/%m/%Y %H:%M} with {len(clean['units'])} invited points",
                 user=actor, target=event, details={"invited": len(clean["units"])})
    after: list = []
    if publish:
        after = transition(event, "scheduled", now=now, actor=actor)
    db.session.commit()
    _run(after)
    return event


def update_event(event: Event, data: dict[str, Any], *, actor: User | None = None,
                 now: datetime | None = None) -> Event:
    """Edit an event; new times move its pending tasks (and tell the hosts)."""
    now = now or utcnow()
    if event.state in TERMINAL_STATES or event.state == "live":
        raise DomainError("event_locked", _("A live, ended or cancelled event can no longer be edited."),
                          status=409)
    clean, errors = _clean(data, event=event, now=now)
    _refuse(errors)
    old_start, old_end = event.start_dt, event.end_dt
    changes: list[str] = []
    for key in ("title", "description", "meeting_url", "meeting_id", "meeting_passcode", "test_window_minutes",
                "absence_grace_minutes", "reminder_offsets", "start_dt", "end_dt"):
        if key in clean and getattr(event, key) != clean[key]:
            setattr(event, key, clean[key])
            changes.append(key)
    if "agenda" in clean:
        _apply_agenda(event, clean["agenda"])
        changes.append("agenda")
    host_changed = clean["host_unit"] is not None and clean["host_unit"].id != event.host_unit_id
    if host_changed:
        event.host_unit = clean["host_unit"]
        changes.append("host_unit")
    point_changes = {}
    if "units" in clean or host_changed or clean.get("attendance"):
        point_changes = _apply_points(event, event.host_unit, clean.get("units"), clean.get("attendance") or {})
        if point_changes["added"] or point_changes["removed"]:
            changes.append("points")
    moved = event.start_dt != old_start or event.end_dt != old_end
    after: list = []
    if changes:
        audit.record("event.updated", f"event {event.id} {event.title!r}: {', '.join(changes)} changed", user=actor,
                     target=event, details={"changed": changes, **point_changes,
                                            "from": [old_start.isoformat(), old_end.isoformat()] if moved else None})
    if event.state in ("scheduled", "testing"):
        db.session.flush()
        if event.state == "testing" and moved and now < event.start_dt - timedelta(minutes=event.test_window_minutes):
            after += transition(event, "scheduled", now=now, actor=actor, force=True)
        _sync_tasks(event, now, moved=moved or bool({"reminder_offsets", "test_window_minutes",
                                                      "absence_grace_minutes"} & set(changes)))
        if moved:
            _notify_hosts_moved(event, old_start, now)
    if moved:
        from launch.services.campaigns import follow_event

        follow_event(event, actor=actor, now=now)
    db.session.commit()
    _run(after)
    return event


def update_points(event: Event, rows: dict[int, dict[str, Any]], *, actor: User | None = None) -> int:
    """Per-event expected attendance and room/endpoint of points ({point_id: {...}}); returns how many changed."""
    if event.state in TERMINAL_STATES:
        raise DomainError("event_locked", _("An ended or cancelled event can no longer be edited."), status=409)
    points = {p.id: p for p in event.points}
    errors: list[FieldError] = []
    changed = 0
    for point_id, values in rows.items():
        point = points.get(point_id)
        if point is None:
            errors.append(FieldError("unknown_point", _("This connection point is not invited."), "points"))
            continue
        if "expected_attendance" in values:
            number = _int_in(values["expected_attendance"], 0, 1_000_000)
            if number is None:
                errors.append(FieldError("bad_attendance", _("%(name)s: expected attendance must be a whole number "
                                                             "of 0 or more.", name=point.unit.name), "points"))
            elif number != point.expected_attendance:
                point.expected_attendance = number
                changed += 1
        if "vc_endpoint" in values:
            endpoint = (values["vc_endpoint"] or "").strip() or None
            if endpoint and len(endpoint) > 300:
                errors.append(FieldError("too_long", _("%(name)s: the room or endpoint is too long.",
                                                       name=point.unit.name), "points"))
            elif endpoint != point.vc_endpoint:
                point.vc_endpoint = endpoint
                changed += 1
    if errors:
        db.session.rollback()
        _refuse(errors)
    if changed:
        audit.record("event.points_updated", f"event {event.id}: {changed} point setting(s) changed", user=actor,
                     target=event)
    db.session.commit()
    return changed


# --- lifecycle --------------------------------------------------------------------------------------


def _run(callbacks: list) -> None:
    for callback in callbacks or []:
        callback()


def transition(event: Event, to: str, *, now: datetime, actor: User | None = None, force: bool = False,
                reason: str | None = None) -> list:
    """Change the state in the session (caller commits); returns the announcements to make after the commit."""
    old = event.state
    if old == to:
        return []
    if not force and to != "cancelled" and STATE_ORDER.get(to, -1) <= STATE_ORDER.get(old, 99):
        raise DomainError("bad_transition", _("The event cannot go from %(old)s to %(new)s.",
                                              old=STATE_LABELS[old], new=STATE_LABELS[to]), status=409)
    event.state, event.state_changed_dt = to, now
    by = actor.username if actor else "system"
    audit.record("event.state", f"event {event.id} {event.title!r}: {old} -> {to}" + (f" ({reason})" if reason else ""),
                 user=actor, target=event, details={"from": old, "to": to, "reason": reason})
    db.session.add(Activity(event_id=event.id, kind="state", created_dt=now,
                            data={"from": old, "to": to, "by": by, "reason": reason}))
    if to == "scheduled" and old == "draft":
        _sync_tasks(event, now, moved=False)
    elif to in TERMINAL_STATES:
        scheduling.cancel_tasks(event_id=event.id, now=now, reason=f"event {to}")
    event_id = event.id
    data = {"state": to, "from": old, "at": now.isoformat(), "by": by}
    return [lambda: wall_change(event_id, "state", data=data)]


def change_state(event: Event, to: str, *, actor: User | None = None, now: datetime | None = None) -> Event:
    """An operator moves the event on by hand (draft -> scheduled, scheduled -> testing/live, ... )."""
    now = now or utcnow()
    if to == "cancelled":
        return cancel_event(event, actor=actor, now=now)
    if to not in MANUAL_MOVES.get(event.state, ()):
        raise DomainError("bad_transition", _("The event cannot go from %(old)s to %(new)s.",
                                              old=STATE_LABELS.get(event.state, event.state),
                                              new=STATE_LABELS.get(to, to)), status=409)
    if to == "scheduled" and event.start_dt <= now:
        raise DomainError("start_in_past", _("The start is past: move the event before scheduling it."), status=409)
    after = transition(event, to, now=now, actor=actor)
    db.session.commit()
    _run(after)
    return event


def cancel_event(event: Event, *, actor: User | None = None, reason: str | None = None,
                 now: datetime | None = None) -> Event:
    """Cancel: its pending tasks are cancelled and the hosts told (unless it was still a draft)."""
    now = now or utcnow()
    if event.state in TERMINAL_STATES:
        raise DomainError("bad_transition", _("The event is already %(state)s.", state=STATE_LABELS[event.state]),
                          status=409)
    reason = (reason or "").strip()[:300] or None
    was_draft = event.state == "draft"
    after = transition(event, "cancelled", now=now, actor=actor, reason=reason)
    if not was_draft:
        for user, _points in host_recipients(event).items():
            with force_locale(user.locale or "vi"):
                subject = _("Cancelled: %(title)s", title=event.title)
                body = _("The event “%(title)s” planned for %(when)s is cancelled.", title=event.title,
                         when=_fmt(event.start_dt))
                if reason:
                    body += "\n" + _("Reason: %(reason)s", reason=reason)
            notifications.send_notice([user], subject, body, event_id=event.id, now=now)
    db.session.commit()
    _run(after)
    return event


# --- tasks -------------------------------------------------------------------------------------------


def _fmt(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""


def plan(event: Event) -> list[tuple[str, datetime, dict]]:
    """The tasks an event needs: (kind, due, payload)."""
    start, window = event.start_dt, timedelta(minutes=event.test_window_minutes or 0)
    tasks: list[tuple[str, datetime, dict]] = []
    if window:
        tasks.append(("event.state", start - window, {"to": "testing"}))
        tasks.append(("event.readiness", start - window, {"stage": "test_window"}))
    if not window or window > timedelta(minutes=READINESS_LATE_STAGE_MINUTES):
        tasks.append(("event.readiness", start - timedelta(minutes=READINESS_LATE_STAGE_MINUTES), {"stage": "t15"}))
    tasks.append(("event.state", start, {"to": "live"}))
    tasks.append(("event.absence", start + timedelta(minutes=event.absence_grace_minutes or 0), {}))
    tasks.append(("event.state", event.end_dt, {"to": "ended"}))
    for offset in event.reminder_offsets or []:
        tasks.append(("event.reminder", start - timedelta(minutes=int(offset)), {"offset": int(offset)}))
    return tasks


def _key(kind: str, payload: dict | None) -> str:
    return kind + json.dumps(payload or {}, sort_keys=True)


def _sync_tasks(event: Event, now: datetime, *, moved: bool) -> None:
    """Make the pending tasks match the plan: move them, add the missing ones, cancel the obsolete ones.

    A perishable task (reminder, readiness) whose time is already past is not created, except the
    readiness check of an already open connection-test window, which runs at once.
    """
    pending = {_key(t.kind, t.payload): t for t in db.session.scalars(
        select(ScheduledTask).where(ScheduledTask.event_id == event.id, ScheduledTask.status == "pending"))}
    ran = set() if moved else {_key(t.kind, t.payload) for t in db.session.scalars(
        select(ScheduledTask).where(ScheduledTask.event_id == event.id, ScheduledTask.status != "pending"))}
    wanted = set()
    for kind, due, payload in plan(event):
        key = _key(kind, payload)
        wanted.add(key)
        if kind in PERISHABLE_TASKS and due <= now:
            if kind == "event.readiness" and payload.get("stage") == "test_window" and event.start_dt > now:
                due = now
            else:
                if key in pending:
                    task = pending[key]
                    task.status, task.finished_dt = "cancelled", now
                    task.last_error = "its time passed when the event was moved"
                continue
        if key in pending:
            pending[key].due_dt = due
        elif key not in ran:
            scheduling.schedule_task(kind, due, event_id=event.id, payload=payload)
    for key, task in pending.items():
        if key not in wanted:
            task.status, task.finished_dt, task.last_error = "cancelled", now, "no longer planned"


def _notify_hosts_moved(event: Event, old_start: datetime, now: datetime) -> None:
    for user, _points in host_recipients(event).items():
        with force_locale(user.locale or "vi"):
            subject = _("Moved: %(title)s", title=event.title)
            body = _("The event “%(title)s” moved from %(old)s to %(new)s (until %(end)s).", title=event.title,
                     old=_fmt(old_start), new=_fmt(event.start_dt), end=_fmt(event.end_dt, "%H:%M %d/%m/%Y"))
        notifications.send_notice([user], subject, body, event_id=event.id, now=now)


def may_advance(event: Event, to: str) -> bool:
    """Whether the event's clock may move it on to `to` (never backwards; draft, ended, cancelled stay)."""
    if to not in STATE_ORDER or event.state in ("draft", *TERMINAL_STATES):
        return False
    return STATE_ORDER[to] > STATE_ORDER[event.state]


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
                lines = [f"- {v.point.unit.name}: " + ", ".join(str(CHECK_LABELS[m]) for m in v.missing)
                         for v in not_ready[:60]]
                if len(not_ready) > 60:
                    lines.append(_("… and %(n)d more.", n=len(not_ready) - 60))
                body = _("Readiness at %(stage)s (start %(when)s). Missing:", stage=STAGE_LABELS[stage],
                         when=_fmt(event.start_dt)) + "\n" + "\n".join(lines)
            notifications.send_notice([user], subject, body, task=task, event_id=event.id, now=now)
    event_id, data = event.id, {"stage": stage, "ready": len(verdicts) - len(not_ready), "total": len(verdicts)}
    return [lambda: wall_change(event_id, "readiness", data=data)]


def reminder_text(event: Event, user: User, points: list[EventPoint], offset: int) -> tuple[str, str]:
    """Subject and body of a reminder to one host, in the host's language."""
    with force_locale(user.locale or "vi"):
        if offset >= 60 and offset % 60 == 0:
            lead = _("in %(n)d hour(s)", n=offset // 60)
        else:
            lead = _("in %(n)d minute(s)", n=offset)
        subject = _("Reminder: %(title)s starts %(lead)s", title=event.title, lead=lead)
        lines = [
            _("“%(title)s” starts at %(when)s (Vietnam time).", title=event.title, when=_fmt(event.start_dt)),
        ]
        if event.test_window_minutes:
            lines.append(_("Connection test from %(when)s.", when=_fmt(
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
            todo = ", ".join(str(CHECK_LABELS[m]) for m in verdict.missing) or _("ready")
            lines.append(f"- {verdict.point.unit.name}" + (f" ({endpoint})" if endpoint else "") + f": {todo}")
        lines.append(_("Check each point in by its QR code before %(when)s, or it is marked absent.",
                       when=_fmt(event.start_dt + timedelta(minutes=event.absence_grace_minutes or 0), "%H:%M")))
    return subject, "\n".join(lines)


def send_reminders(event: Event, offset: int, now: datetime, *, task: ScheduledTask | None = None) -> None:
    """The reminder `offset` minutes before the start, to every host of the invited points (one notice
    each, listing their points). The caller commits."""
    for user, points in host_recipients(event).items():
        subject, body = reminder_text(event, user, points, offset)
        notifications.send_notice([user], subject, body, task=task, event_id=event.id, now=now)


def flag_absent(event: Event, now: datetime, *, task: ScheduledTask | None = None) -> list:
    """Invited points not checked in are flagged absent and the operators told; the caller commits.

    Returns the announcements to make after the commit.
    """
    absent = [p for p in invited_points(event) if p.checked_in_dt is None and p.absent_dt is None]
    for point in absent:
        point.absent_dt = now
        db.session.add(Activity(event_id=event.id, event_point_id=point.id, kind="absent", created_dt=now,
                                data={"unit": point.unit.name, "code": point.unit.code}))
    if absent:
        for user in operators():
            with force_locale(user.locale or "vi"):
                subject = _("%(n)d points absent: %(title)s", n=len(absent), title=event.title)
                body = _("Not checked in %(n)d minutes after the start:", n=event.absence_grace_minutes) + "\n" + \
                    "\n".join(f"- {p.unit.name}" + (f" ({p.unit.host_phone})" if p.unit.host_phone else "")
                              for p in absent)
            notifications.send_notice([user], subject, body, task=task, event_id=event.id, now=now)
    event_id = event.id
    ids = [p.id for p in absent]
    return [lambda pid=pid: wall_change(event_id, "absent", pid) for pid in ids]


def tasks_of(event: Event) -> list[ScheduledTask]:
    """The event's tasks, by due time."""
    return list(db.session.scalars(select(ScheduledTask).where(ScheduledTask.event_id == event.id)
                                   .order_by(ScheduledTask.due_dt, ScheduledTask.id)))


# --- demo -------------------------------------------------------------------------------------------


def seed_demo(operator: User | None) -> Event | None:
    """The demo launch, modelled on 28 July 2023, starting 12 minutes from now (reminders within minutes).

    Idempotent: once the demo event exists, nothing is added.
    """
    existing = db.session.scalar(select(Event).where(Event.title == DEMO_TITLE).limit(1))
    if existing is not None or province_unit() is None:
        return existing
    now = utcnow().replace(second=0, microsecond=0)
    start = now + timedelta(minutes=12)
    agenda = [
        (0, "Khai mạc; giới thiệu đại biểu", "Ban tổ chức"),
        (5, "Phát biểu phát động Phong trào chuyển đổi số tỉnh Quảng Ngãi", "Chủ tịch UBND tỉnh"),
        (25, "Ký cam kết thực hiện chuyển đổi số", "Lãnh đạo tỉnh và các huyện, thị xã, thành phố"),
        (40, "Phát biểu hưởng ứng của các huyện, thị xã, thành phố", "Đại diện UBND cấp huyện"),
        (60, "Phát biểu hưởng ứng của các xã, phường, thị trấn", "Đại diện UBND cấp xã"),
        (80, "Bế mạc", "Ban tổ chức"),
    ]
    return create_event({
        "title": DEMO_TITLE,
        "description": "Lễ phát động trực tuyến từ Trung tâm Giám sát, điều hành đô thị thông minh (IOC) tỉnh, "
                       "kết nối 13 điểm cầu cấp huyện và 173 điểm cầu cấp xã (theo mô hình ngày 28/7/2023).",
        "start": start,
        "end": start + timedelta(minutes=90),
        "test_window_minutes": 10,
        "absence_grace_minutes": 10,
        "reminder_offsets": [10, 5],
        "meeting_url": "https://meet.example.invalid/quangngai-cds",
        "meeting_id": "IOC-QNG-2023",
        "meeting_passcode": "280723",
        "agenda": [{"time": start + timedelta(minutes=m), "title": t, "presenter": p} for m, t, p in agenda],
        "invite": {"mode": "all"},
    }, actor=operator, now=now, publish=True)
