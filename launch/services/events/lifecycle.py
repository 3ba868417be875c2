"""An event's life: state changes (by hand and on time), cancelling, the plan of its tasks, absence.

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

import json
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, Event, ScheduledTask, User
from launch.services import audit, notifications, scheduling
from launch.services.errors import DomainError
from launch.services.events.notices import notify_hosts_cancelled
from launch.services.events.queries import invited_points
from launch.services.events.readiness import readiness_stages
from launch.services.events.states import MANUAL_MOVES, STATE_LABELS, STATE_ORDER, TERMINAL_STATES
from launch.services.recipients import operators
from launch.signals import wall_change

#: Task kinds with no point once their time is past: not planned then (the runner records them missed).
PERISHABLE_TASKS = ("event.reminder", "event.readiness")


def run_after_commit(callbacks: list) -> None:
    """Make the announcements a change returned, once it is committed."""
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
        sync_tasks(event, now, moved=False)
    elif to in TERMINAL_STATES:
        scheduling.cancel_tasks(event_id=event.id, now=now, reason=scheduling.task_note("event_state", to))
    event_id = event.id
    data = {"state": to, "from": old, "at": iso(now), "by": by}
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
    run_after_commit(after)
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
        notify_hosts_cancelled(event, reason, now)
    db.session.commit()
    run_after_commit(after)
    return event


def plan(event: Event) -> list[tuple[str, datetime, dict]]:
    """The tasks an event needs: (kind, due, payload)."""
    start, window = event.start_dt, timedelta(minutes=event.test_window_minutes or 0)
    tasks: list[tuple[str, datetime, dict]] = []
    if window:
        tasks.append(("event.state", start - window, {"to": "testing"}))
    for stage, due in readiness_stages(event).items():
        tasks.append(("event.readiness", due, {"stage": stage}))
    tasks.append(("event.state", start, {"to": "live"}))
    tasks.append(("event.absence", start + timedelta(minutes=event.absence_grace_minutes or 0), {}))
    tasks.append(("event.state", event.end_dt, {"to": "ended"}))
    for offset in event.reminder_offsets or []:
        tasks.append(("event.reminder", start - timedelta(minutes=int(offset)), {"offset": int(offset)}))
    return tasks


def _key(kind: str, payload: dict | None) -> str:
    return kind + json.dumps(payload or {}, sort_keys=True)


def sync_tasks(event: Event, now: datetime, *, moved: bool) -> None:
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
                    task.last_error = scheduling.task_note("moved_past")
                continue
        if key in pending:
            pending[key].due_dt = due
        elif key not in ran:
            scheduling.schedule_task(kind, due, event_id=event.id, payload=payload)
    for key, task in pending.items():
        if key not in wanted:
            task.status, task.finished_dt, task.last_error = "cancelled", now, scheduling.task_note("not_planned")


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
