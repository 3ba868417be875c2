"""Scheduled tasks stored as rows: creating them, and running the due ones exactly once.

Feature modules register a handler per task kind with `@task_handler("kind")`; the scheduler's
sweep calls `run_due_tasks()`, which claims each due row atomically (a conditional UPDATE, so two
schedulers or a restarted one never run a task twice) and calls its handler.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from launch.clock import utcnow
from launch.extensions import db
from launch.models import ScheduledTask

log = logging.getLogger(__name__)

#: kind -> handler(task, now). The handler does the work and may commit; errors are recorded on the task.
TASK_HANDLERS: dict[str, Callable[[ScheduledTask, datetime], Any]] = {}
#: Kinds whose work is useless once late past the grace (reminders): recorded as missed instead.
PERISHABLE_KINDS: set[str] = set()


def task_handler(kind: str, *, perishable: bool = False) -> Callable:
    """Register the function that runs tasks of `kind` (perishable: skip as missed when too late)."""

    def decorator(func: Callable[[ScheduledTask, datetime], Any]) -> Callable[[ScheduledTask, datetime], Any]:
        TASK_HANDLERS[kind] = func
        if perishable:
            PERISHABLE_KINDS.add(kind)
        return func

    return decorator


def load_handlers() -> None:
    """Import the feature modules so their handlers are registered."""
    import launch.services.campaigns  # noqa: F401
    import launch.services.events  # noqa: F401


def schedule_task(kind: str, due_dt: datetime, *, event_id: int | None = None, campaign_id: int | None = None,
                  payload: dict | None = None) -> ScheduledTask:
    """Add a pending task (caller commits)."""
    task = ScheduledTask(kind=kind, due_dt=due_dt, event_id=event_id, campaign_id=campaign_id, payload=payload)
    db.session.add(task)
    return task


def _claim(task_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.id == task_id, ScheduledTask.status == "pending")
        .values(status="running", claimed_dt=now, attempts=ScheduledTask.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def run_due_tasks(now: datetime | None = None) -> int:
    """Claim and run every due task, oldest first; returns how many were handled."""
    load_handlers()
    now = now or utcnow()
    grace = timedelta(minutes=current_app.config.get("SCHEDULER_MISFIRE_GRACE_MINUTES", 30))
    due_ids = db.session.scalars(
        select(ScheduledTask.id)
        .where(ScheduledTask.status == "pending", ScheduledTask.due_dt <= now)
        .order_by(ScheduledTask.due_dt, ScheduledTask.id)
    ).all()
    handled = 0
    for task_id in due_ids:
        if not _claim(task_id, now):
            continue  # another scheduler took it
        task = db.session.get(ScheduledTask, task_id)
        handled += 1
        if task.kind in PERISHABLE_KINDS and now - task.due_dt > grace:
            task.status, task.finished_dt = "missed", now
            task.last_error = f"due {task.due_dt.isoformat()}, found {now.isoformat()}: past the grace"
            db.session.commit()
            continue
        handler = TASK_HANDLERS.get(task.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for task kind {task.kind!r}")
            handler(task, now)
        except Exception as exc:  # noqa: BLE001  (recorded, never silently dropped)
            db.session.rollback()
            log.exception("task %s (%s) failed", task_id, task.kind if task else "?")
            task = db.session.get(ScheduledTask, task_id)
            task.status, task.last_error, task.finished_dt = "failed", repr(exc)[:2000], now
            db.session.commit()
            continue
        task = db.session.get(ScheduledTask, task_id)
        if task.status == "running":
            task.status, task.finished_dt = "done", now
        db.session.commit()
    return handled
