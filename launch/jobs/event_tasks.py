"""What runs at an event's task times (see `launch.jobs.tasks.HANDLERS`).

Each handler reads its task, checks the event still wants the work, and calls the events service;
it never commits nor publishes (the runner commits, then calls what it returns).

- `event.state` {"to": testing|live|ended}: at the test window, the start and the end;
- `event.readiness` {"stage": test_window|t15}: verdict per invited point, stored;
- `event.reminder` {"offset": minutes}: a notice to the hosts of the invited points;
- `event.absence`: at start + grace, invited points not checked in are flagged absent.
"""
from __future__ import annotations

from datetime import datetime

from launch.extensions import db
from launch.models import Event, ScheduledTask
from launch.services import events
from launch.services.scheduling import task_note


def _event(task: ScheduledTask) -> Event | None:
    return db.session.get(Event, task.event_id) if task.event_id else None


def _skip(task: ScheduledTask, event: Event | None) -> list:
    task.last_error = task_note("event_state", event.state) if event else task_note("no_event")
    return []


def run_state(task: ScheduledTask, now: datetime) -> list:
    """Move the event on at its time (never backwards; a cancelled or ended event stays)."""
    event = _event(task)
    to = (task.payload or {}).get("to")
    if event is None or to not in events.STATE_ORDER:
        task.last_error = task_note("no_event")
        return []
    if not events.may_advance(event, to):
        task.last_error = task_note("event_state", event.state)
        return []
    return events.transition(event, to, now=now)


def run_readiness(task: ScheduledTask, now: datetime) -> list:
    """Store each invited point's verdict and tell the operators which points are not ready."""
    event = _event(task)
    if event is None or event.state not in ("scheduled", "testing"):
        return _skip(task, event)
    return events.record_readiness(event, (task.payload or {}).get("stage", "test_window"), now, task=task)


def run_reminder(task: ScheduledTask, now: datetime) -> list:
    """Send the reminder to every host of the invited points (one notice each, listing their points)."""
    event = _event(task)
    if event is None or event.state not in ("scheduled", "testing"):
        return _skip(task, event)
    events.send_reminders(event, int((task.payload or {}).get("offset", 0)), now, task=task)
    return []


def run_absence(task: ScheduledTask, now: datetime) -> list:
    """At start + grace: invited points not checked in are flagged absent; operators are told."""
    event = _event(task)
    if event is None or event.state not in ("scheduled", "testing", "live"):
        return _skip(task, event)
    return events.flag_absent(event, now, task=task)
