"""Creating and editing events: the event, its agenda, its invited points and their settings.

Every input is checked first (`forms`); refused, nothing is saved. New times move the pending tasks,
tell the hosts and move the campaigns counted from the event.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from launch.clock import iso, to_local, utcnow
from launch.extensions import db
from launch.models import AgendaItem, Event, EventPoint, Unit, User
from launch.services import audit
from launch.services.campaigns import follow_event
from launch.services.errors import DomainError, FieldError, ValidationFailed, all_or_nothing
from launch.services.events.forms import clean as clean_form
from launch.services.events.forms import int_in, refuse
from launch.services.events.lifecycle import run_after_commit, sync_tasks, transition
from launch.services.events.notices import notify_hosts_moved
from launch.services.events.states import TERMINAL_STATES
from launch.services.text import fold


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
    clean, errors = clean_form(data, event=None, now=now)
    refuse(errors)
    event = Event(title=clean["title"], description=clean["description"], start_dt=clean["start_dt"],
                  end_dt=clean["end_dt"], state="draft", state_changed_dt=now, host_unit=clean["host_unit"],
                  edition=clean["host_unit"].edition if clean["host_unit"] is not None else None,
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
                 user=actor, target=event, details={"invited": len(clean["units"]), "start": iso(event.start_dt)})
    after: list = []
    if publish:
        after = transition(event, "scheduled", now=now, actor=actor)
    db.session.commit()
    run_after_commit(after)
    return event


@all_or_nothing
def update_event(event: Event, data: dict[str, Any], *, actor: User | None = None,
                 now: datetime | None = None) -> Event:
    """Edit an event; new times move its pending tasks (and tell the hosts)."""
    now = now or utcnow()
    if event.state in TERMINAL_STATES or event.state == "live":
        raise DomainError("event_locked", _("A live, ended or cancelled event can no longer be edited."),
                          status=409)
    clean, errors = clean_form(data, event=event, now=now)
    refuse(errors)
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
        event.host_unit, event.edition = clean["host_unit"], clean["host_unit"].edition
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
                                            "from": [iso(old_start), iso(old_end)] if moved else None})
    if event.state in ("scheduled", "testing"):
        db.session.flush()
        if event.state == "testing" and moved and now < event.start_dt - timedelta(minutes=event.test_window_minutes):
            after += transition(event, "scheduled", now=now, actor=actor, force=True)
        sync_tasks(event, now, moved=moved or bool({"reminder_offsets", "test_window_minutes",
                                                      "absence_grace_minutes"} & set(changes)))
        if moved:
            notify_hosts_moved(event, old_start, now)
    if moved:
        follow_event(event, actor=actor, now=now)
    db.session.commit()
    run_after_commit(after)
    return event


#: The per-point settings an operator edits on the points page, and how long each may be.
POINT_TEXTS = {"vc_endpoint": 300, "meeting_name": 200, "meeting_email": 200}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _point_text(point: EventPoint, key: str, raw: Any, errors: list[FieldError]) -> int:
    """Apply one text setting of a point (room or endpoint, Zoom participant name or e-mail); 1 if it changed."""
    value = " ".join(str(raw or "").split()) or None
    name = point.unit.name
    if value and len(value) > POINT_TEXTS[key]:
        errors.append(FieldError("too_long", {
            "vc_endpoint": _("%(name)s: the room or endpoint is too long.", name=name),
            "meeting_name": _("%(name)s: the Zoom participant name is too long.", name=name),
            "meeting_email": _("%(name)s: the Zoom e-mail is too long.", name=name)}[key], "points"))
        return 0
    if key == "meeting_email" and value and not EMAIL_RE.match(value):
        errors.append(FieldError("bad_email", _("%(name)s: the Zoom e-mail is not an e-mail address.", name=name),
                                 "points"))
        return 0
    if value == getattr(point, key):
        return 0
    setattr(point, key, value)
    return 1


def _unique_meeting_names(points: list[EventPoint], errors: list[FieldError]) -> None:
    """Two points of one event with one Zoom name or e-mail could never be told apart (the matching
    refuses to guess): refused, naming both points."""
    for key, norm, message in (
            ("meeting_name", fold, _("%(a)s and %(b)s have the same Zoom participant name: give each point its own.")),
            ("meeting_email", lambda v: v.strip().casefold(),
             _("%(a)s and %(b)s have the same Zoom e-mail: give each point its own."))):
        seen: dict[str, EventPoint] = {}
        for point in points:
            value = getattr(point, key)
            if not value:
                continue
            other = seen.setdefault(norm(value), point)
            if other is not point:
                errors.append(FieldError("duplicate_" + key, message % {"a": other.unit.name, "b": point.unit.name},
                                         "points"))


def update_points(event: Event, rows: dict[int, dict[str, Any]], *, actor: User | None = None) -> int:
    """Per-event settings of points ({point_id: {...}}): expected attendance, room/endpoint, and the Zoom
    participant name and e-mail that the meeting's webhooks are matched by. Returns how many changed;
    refused, nothing is saved."""
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
            number = int_in(values["expected_attendance"], 0, 1_000_000)
            if number is None:
                errors.append(FieldError("bad_attendance", _("%(name)s: expected attendance must be a whole number "
                                                             "of 0 or more.", name=point.unit.name), "points"))
            elif number != point.expected_attendance:
                point.expected_attendance = number
                changed += 1
        changed += sum(_point_text(point, key, values[key], errors) for key in POINT_TEXTS if key in values)
    _unique_meeting_names(list(points.values()), errors)
    if errors:
        db.session.rollback()
        refuse(errors)
    if changed:
        audit.record("event.points_updated", f"event {event.id}: {changed} point setting(s) changed", user=actor,
                     target=event, details={"count": changed})
    db.session.commit()
    return changed


def set_walk_ins(event: Event, allow: bool, *, actor: User | None = None) -> bool:
    """Allow (or stop) walk-ins from other units: hosts then find and check in anyone on the event's
    roster, not only the people of their own units. Audited; returns whether it changed."""
    if event.state in TERMINAL_STATES:
        raise DomainError("event_locked", _("An ended or cancelled event can no longer be edited."), status=409)
    allow = bool(allow)
    if event.allow_walk_ins == allow:
        return False
    event.allow_walk_ins = allow
    audit.record("event.walk_ins", f"event {event.id}: walk-ins from other units {'allowed' if allow else 'stopped'}",
                 user=actor, target=event, details={"allow": allow})
    db.session.commit()
    return True
