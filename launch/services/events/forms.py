"""An event's form: every input checked, every problem listed (nothing saved on error).

The web layer and the service share the parsers (reminder offsets, the agenda's notation).
"""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from launch.clock import as_utc, parse_local_dt, to_local
from launch.extensions import db
from launch.models import Event, Unit
from launch.models.units import LEVELS
from launch.services import directory
from launch.services.errors import FieldError, ValidationFailed
from launch.services.events.queries import province_unit
from launch.services.notifications import valid_http_url

MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_OFFSETS = 10


def refuse(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed("invalid_event", _("The event was not saved."), errors=errors,
                               codes=[e.code for e in errors])


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


def int_in(value: Any, low: int, high: int) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def _resolve_units(values: Any, errors: list[FieldError], edition: str | None = None) -> list[Unit]:
    """Unit ids (int) or codes (text, read in the event's map `edition`) -> units; an unknown one,
    or one on another map, is an error naming it."""
    units, unknown, elsewhere = directory.in_edition(values, edition)
    if unknown:
        errors.append(FieldError("unknown_point", _("These connection points do not exist: %(codes)s.",
                                                     codes=", ".join(unknown[:20])), "invite"))
    if elsewhere:
        errors.append(FieldError("other_map", _("These connection points are on another map than the host "
                                                "point: %(codes)s.", codes=", ".join(elsewhere[:20])), "invite"))
    return units


def _by_area(values: Any, invitable: dict[int, Unit], edition: str | None,
             errors: list[FieldError]) -> dict[int, Unit]:
    """The chosen areas (a district, a province at a national launch) with every point under them."""
    chosen: dict[int, Unit] = {}
    for area in _resolve_units(values, errors, edition):
        below = directory.units_under(area)
        if not below or area.id not in invitable:
            errors.append(FieldError("unknown_point", _("%(name)s has no connection points under it in "
                                                        "this launch.", name=area.name), "invite"))
            continue
        chosen[area.id] = area
        chosen.update((u.id, u) for u in below)
    return chosen


def _invitable(host: Unit | None) -> dict[int, Unit]:
    """The points a launch hosted at `host` may invite: its province's tree (the whole country's
    under the national root), on the host's map."""
    if host is None:
        return {u.id: u for u in db.session.scalars(select(Unit))}
    root = directory.launch_root(host)
    return {u.id: u for u in [root, *directory.units_under(root)]}


def _selected_units(invite: dict[str, Any] | None, host: Unit | None, errors: list[FieldError]) -> list[Unit]:
    """The invited units: all of the host's tree (default), or the union of chosen areas, levels and
    single points; always on the host's map."""
    invite = invite or {}
    mode = invite.get("mode") or "all"
    edition = host.edition if host is not None else None
    invitable = _invitable(host)
    if mode == "all":
        units = sorted(invitable.values(), key=lambda u: u.code)
    elif mode == "select":
        chosen = _by_area(invite.get("districts") or [], invitable, edition, errors)
        levels = [lv for lv in (invite.get("levels") or []) if lv]
        bad_levels = [lv for lv in levels if lv not in LEVELS]
        if bad_levels:
            errors.append(FieldError("bad_level", _("Unknown level %(level)s.", level=", ".join(bad_levels)),
                                     "invite"))
        chosen.update((u.id, u) for u in invitable.values() if u.level in levels)
        for unit in _resolve_units(invite.get("units") or [], errors, edition):
            chosen[unit.id] = unit
        units = sorted(chosen.values(), key=lambda u: u.code)
    else:
        errors.append(FieldError("bad_invite", _("Choose all points or a selection."), "invite"))
        return []
    units = [u for u in units if host is None or u.id != host.id]
    if not units and not any(e.field == "invite" for e in errors):
        errors.append(FieldError("no_points", _("Invite at least one connection point."), "invite"))
    return units


class _Form:
    """An event form being checked: the input, the event it edits (None: a new one), what is clean so
    far and every problem found, in the form's order."""

    def __init__(self, data: dict[str, Any], event: Event | None, now: datetime) -> None:
        self.data, self.event, self.now = data, event, now
        self.clean: dict[str, Any] = {}
        self.errors: list[FieldError] = []

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def current(self, key: str) -> Any:
        """The edited event's value (None for a new event)."""
        return getattr(self.event, key) if self.event is not None else None

    def wants(self, key: str) -> bool:
        """A value is to be set: given, or a new event (which takes the default)."""
        return key in self.data or self.event is None

    def refuse(self, code: str, message: Any, field: str) -> None:
        self.errors.append(FieldError(code, message, field))


def _clean_text(form: _Form) -> None:
    title = ((form.get("title") if "title" in form.data else form.current("title")) or "").strip()
    if not title:
        form.refuse("title_required", _("A title is required."), "title")
    elif len(title) > 300:
        form.refuse("too_long", _("The title is longer than 300 characters."), "title")
    form.clean["title"] = title
    if form.wants("description"):
        description = (form.get("description") or "").strip() or None
        if description and len(description) > 10000:
            form.refuse("too_long", _("The description is too long."), "description")
        form.clean["description"] = description


def _clean_times(form: _Form) -> None:
    start = parse_local_dt(form.get("start")) if "start" in form.data else form.current("start_dt")
    end = parse_local_dt(form.get("end")) if "end" in form.data else form.current("end_dt")
    if start is None:
        form.refuse("bad_start", _("Give the start as a date and time."), "start")
    if end is None:
        form.refuse("bad_end", _("Give the end as a date and time."), "end")
    if start and end:
        if end <= start:
            form.refuse("end_before_start", _("The end must be after the start."), "end")
        elif end - start > timedelta(days=2):
            form.refuse("too_long", _("An event lasts at most two days."), "end")
        moved = form.event is None or start != form.event.start_dt
        if moved and start <= form.now:
            form.refuse("start_in_past", _("The start must be in the future."), "start")
    form.clean["start_dt"], form.clean["end_dt"] = start, end


#: Minutes fields: (key, lowest, highest, default of a new event, refusal code).
_MINUTES = (("test_window_minutes", 0, 24 * 60, 60, "bad_test_window"),
            ("absence_grace_minutes", 0, 12 * 60, 10, "bad_grace"))


def _clean_minutes(form: _Form) -> None:
    messages = {"test_window_minutes": _("The connection-test window must be 0 to 1440 minutes."),
                "absence_grace_minutes": _("The absence grace must be 0 to 720 minutes.")}
    for key, low, high, default, code in _MINUTES:
        if key in form.data and form.get(key) not in (None, ""):
            number = int_in(form.get(key), low, high)
            if number is None:
                form.refuse(code, messages[key], key)
            form.clean[key] = number
        elif form.event is None:
            form.clean[key] = default


def _clean_offsets(form: _Form) -> None:
    if "reminder_offsets" in form.data:
        offsets = parse_offsets(form.get("reminder_offsets"))
        if offsets is None:
            form.refuse("bad_offsets",
                        _("Reminder offsets must be up to %(n)d numbers of minutes (or 24h, 15m) between 1 minute "
                          "and 30 days, e.g. 24h, 1h, 15m.", n=MAX_OFFSETS), "reminder_offsets")
        form.clean["reminder_offsets"] = offsets
    elif form.event is None:
        form.clean["reminder_offsets"] = [24 * 60, 60, 15]


def _clean_meeting(form: _Form) -> None:
    for key, limit in (("meeting_url", 500), ("meeting_id", 100), ("meeting_passcode", 100)):
        if form.wants(key):
            value = (form.get(key) or "").strip() or None
            if value and len(value) > limit:
                form.refuse("too_long", _("%(field)s is too long.", field=key), key)
            form.clean[key] = value
    if form.clean.get("meeting_url") and not valid_http_url(form.clean["meeting_url"]):
        form.refuse("bad_meeting_url", _("The meeting link must be a full http:// or https:// address."),
                    "meeting_url")


def _clean_host(form: _Form) -> None:
    host = form.current("host_unit")
    if "host_unit_id" in form.data and form.get("host_unit_id") not in (None, ""):
        host_id = int_in(form.get("host_unit_id"), 1, 2**31)
        host = db.session.get(Unit, host_id) if host_id else None
        if host is None:
            form.refuse("unknown_host", _("The host point does not exist."), "host_unit_id")
    elif form.event is None:
        host = province_unit()
        if host is None:
            form.refuse("unknown_host", _("Load the directory first: there is no province (IOC)."), "host_unit_id")
    form.clean["host_unit"] = host


def _agenda_start(form: _Form, when: Any, number: int) -> datetime | None:
    """An agenda item's time: a datetime, or HH:MM on the event's local day."""
    if isinstance(when, datetime):
        return as_utc(when)
    if not when:
        return None
    start = form.clean.get("start_dt")
    match = _AGENDA_TIME_RE.match(str(when).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59 or start is None:
        form.refuse("bad_agenda", _("Agenda item %(n)d: give the time as HH:MM.", n=number), "agenda")
        return None
    return as_utc(datetime.combine(to_local(start).date(), time(int(match.group(1)), int(match.group(2)))))


def _clean_agenda(form: _Form) -> None:
    if "agenda" not in form.data:
        return
    raw = form.get("agenda")
    agenda = []
    for number, item in enumerate(parse_agenda_text(raw) if isinstance(raw, str) else list(raw or []), 1):
        item_title = (item.get("title") or "").strip()
        presenter = (item.get("presenter") or "").strip() or None
        starts = _agenda_start(form, item.get("time"), number)
        if not item_title:
            form.refuse("bad_agenda", _("Agenda item %(n)d has no title.", n=number), "agenda")
        elif len(item_title) > 300 or (presenter and len(presenter) > 200):
            form.refuse("bad_agenda", _("Agenda item %(n)d is too long.", n=number), "agenda")
        agenda.append({"starts_dt": starts, "title": item_title, "presenter": presenter})
    form.clean["agenda"] = agenda


def _clean_invite(form: _Form) -> None:
    host = form.clean["host_unit"]
    if form.event is None or (form.get("invite") or {}).get("mode") not in (None, "", "keep"):
        form.clean["units"] = _selected_units(form.get("invite"), host, form.errors)
    elif host is not None and any(p.unit.edition != host.edition for p in form.event.points if not p.is_host):
        form.refuse("other_map", _("The host point is on another map than the invited points: choose the "
                                   "invited points again."), "invite")


def _clean_attendance(form: _Form) -> None:
    if "attendance" not in form.data:
        return
    attendance = {}
    for key, value in (form.get("attendance") or {}).items():
        number = int_in(value, 0, 1_000_000)
        if number is None:
            form.refuse("bad_attendance", _("Expected attendance must be a whole number of 0 or more."), "attendance")
        else:
            attendance[int(key)] = number
    form.clean["attendance"] = attendance


def clean(data: dict[str, Any], *, event: Event | None, now: datetime) -> tuple[dict[str, Any], list[FieldError]]:
    """Check every field of an event form (a new event when `event` is None; an edit checks only the
    fields given); returns the clean values and every problem found, in the form's order."""
    form = _Form(data, event, now)
    for step in (_clean_text, _clean_times, _clean_minutes, _clean_offsets, _clean_meeting, _clean_host,
                 _clean_agenda, _clean_invite, _clean_attendance):
        step(form)
    return form.clean, form.errors
