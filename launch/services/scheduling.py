"""Scheduled tasks stored as rows: creating them, and running the due ones exactly once.

Feature modules register a handler per task kind with `@task_handler("kind")`; the scheduler's
sweep calls `run_due_tasks()`, which claims each due row atomically (a conditional UPDATE, so two
schedulers or a restarted one never run a task twice) and calls its handler.

Exactly once, even across a crash:

1. *Claim*: `pending -> running` with `attempts + 1`, committed. The attempt number is the claim's
   fencing token.
2. *Run*: in ONE transaction, the fenced finish (`running -> done WHERE attempts = my attempt`) is
   executed first (on PostgreSQL it also locks the row), then the handler adds its work (notices,
   state changes, ...), then everything commits together. Handlers should not commit themselves; if
   one does, its commit carries the `done` status with it.
3. *Crash*: a process killed between claim and commit leaves the row `running` with none of its work
   written. After `SCHEDULER_TASK_LEASE_SECONDS` the next sweep puts it back to `pending`; it then
   runs (once) or, if perishable and past `SCHEDULER_MISFIRE_GRACE_MINUTES`, is recorded `missed`.
   Should the first process still be alive and finish late, its fenced finish matches no row (the
   attempt number moved on) and its work is rolled back: never twice.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from launch.clock import utcnow
from launch.extensions import db
from launch.models import ScheduledTask

log = logging.getLogger(__name__)

#: kind -> handler(task, now). The handler adds its work to the session (run_due_tasks commits it
#: together with the task's status) and may return callables to run after that commit (announcements).
TASK_HANDLERS: dict[str, Callable[[ScheduledTask, datetime], Any]] = {}
#: Kinds whose work is useless once late past the grace (reminders): recorded as missed instead.
PERISHABLE_KINDS: set[str] = set()
#: Default lease of a claimed task before a sweep considers its runner dead.
DEFAULT_LEASE_SECONDS = 300


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


def cancel_tasks(*, event_id: int | None = None, campaign_id: int | None = None, kinds: Iterable[str] | None = None,
                 now: datetime | None = None, reason: str = "cancelled") -> int:
    """Mark the pending tasks of an event or campaign cancelled (caller commits); returns how many."""
    if event_id is None and campaign_id is None:
        raise ValueError("cancel_tasks needs an event_id or a campaign_id")
    stmt = update(ScheduledTask).where(ScheduledTask.status == "pending")
    if event_id is not None:
        stmt = stmt.where(ScheduledTask.event_id == event_id)
    if campaign_id is not None:
        stmt = stmt.where(ScheduledTask.campaign_id == campaign_id)
    if kinds is not None:
        stmt = stmt.where(ScheduledTask.kind.in_(list(kinds)))
    result = db.session.execute(
        stmt.values(status="cancelled", finished_dt=now or utcnow(), last_error=reason[:2000])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config.get("SCHEDULER_TASK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def _grace() -> timedelta:
    return timedelta(minutes=current_app.config.get("SCHEDULER_MISFIRE_GRACE_MINUTES", 30))


def recover_stale(now: datetime | None = None) -> int:
    """Put tasks whose runner died (still `running` past the lease) back to pending; returns how many.

    Their work was never committed (it commits with the `done` status), so running them again is safe;
    the fenced finish stops a runner that was merely slow from committing a second time.
    """
    now = now or utcnow()
    result = db.session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.status == "running", ScheduledTask.claimed_dt < now - _lease())
        .values(status="pending", last_error="recovered: the previous run was interrupted before it finished")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        log.warning("recovered %d interrupted task(s)", result.rowcount)
    return result.rowcount


def claim(task_id: int, now: datetime) -> int | None:
    """Take a pending task for this runner; returns the attempt number (the fencing token) or None."""
    result = db.session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.id == task_id, ScheduledTask.status == "pending")
        .values(status="running", claimed_dt=now, attempts=ScheduledTask.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.scalar(select(ScheduledTask.attempts).where(ScheduledTask.id == task_id))


def finish(task_id: int, attempt: int, status: str, now: datetime, error: str | None = None) -> bool:
    """Move a task this runner holds (`attempt`) from running to `status`, uncommitted; False if it lost it."""
    values: dict[str, Any] = {"status": status, "finished_dt": now}
    if error is not None:
        values["last_error"] = error[:2000]
    result = db.session.execute(
        update(ScheduledTask)
        .where(ScheduledTask.id == task_id, ScheduledTask.status == "running", ScheduledTask.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _after_commit(result: Any) -> None:
    callbacks = result if isinstance(result, list | tuple) else [result]
    for callback in callbacks:
        if callable(callback):
            try:
                callback()
            except Exception:  # noqa: BLE001  (an announcement must not undo committed work)
                log.exception("after-commit callback failed")


def run_claimed(task_id: int, attempt: int, now: datetime) -> str:
    """Run a task this runner claimed; returns the status it ended with (`lost` if taken over)."""
    task = db.session.get(ScheduledTask, task_id)
    db.session.refresh(task)
    if task.kind in PERISHABLE_KINDS and now - task.due_dt > _grace():
        message = f"due {task.due_dt.isoformat()}, found {now.isoformat()}: past the grace"
        ok = finish(task_id, attempt, "missed", now, message)
        db.session.commit()
        return "missed" if ok else "lost"
    handler = TASK_HANDLERS.get(task.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for task kind {task.kind!r}")
        if not finish(task_id, attempt, "done", now):
            db.session.rollback()
            return "lost"
        result = handler(task, now)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001  (recorded, never silently dropped)
        db.session.rollback()
        log.exception("task %s (%s) failed", task_id, task.kind)
        ok = finish(task_id, attempt, "failed", now, repr(exc))
        db.session.commit()
        return "failed" if ok else "lost"
    _after_commit(result)
    return "done"


def run_due_tasks(now: datetime | None = None) -> int:
    """Claim and run every due task, oldest first; returns how many this runner handled."""
    load_handlers()
    now = now or utcnow()
    recover_stale(now)
    due_ids = db.session.scalars(
        select(ScheduledTask.id)
        .where(ScheduledTask.status == "pending", ScheduledTask.due_dt <= now)
        .order_by(ScheduledTask.due_dt, ScheduledTask.id)
    ).all()
    handled = 0
    for task_id in due_ids:
        attempt = claim(task_id, now)
        if attempt is None:
            continue  # another scheduler took it
        handled += 1
        run_claimed(task_id, attempt, now)
    return handled
