"""The task runner: runs the due `ScheduledTask` rows exactly once, through ONE table of handlers.

Services plan work as rows (`launch.services.scheduling.schedule_task`); the scheduler's sweep calls
`run_due_tasks()`, which claims each due row atomically (a conditional UPDATE, so two schedulers or
a restarted one never run a task twice) and calls the handler `HANDLERS` names for its kind.

The handlers' contract (one for every kind): ``handler(task, now) -> list of callables``. A
handler adds its work to the session (through the services) and NEVER commits or publishes: the
runner commits that work together with the task's `done` status, then calls the returned
callables (they send the domain signals: walls and dashboards read what was just committed). A
handler that finds nothing to do notes why in `task.last_error` and returns [].

Exactly once, even across a crash:

1. *Claim*: `pending -> running` with `attempts + 1`, committed. The attempt number is the claim's
   fencing token.
2. *Run*: in ONE transaction, the fenced finish (`running -> done WHERE attempts = my attempt`) is
   executed first (on PostgreSQL it also locks the row), then the handler adds its work (notices,
   state changes, ...), then everything commits together.
3. *Crash*: a process killed between claim and commit leaves the row `running` with none of its work
   written. After `SCHEDULER_TASK_LEASE_SECONDS` the next sweep puts it back to `pending`; it then
   runs (once) or, if perishable and past `SCHEDULER_MISFIRE_GRACE_MINUTES`, is recorded `missed`.
   Should the first process still be alive and finish late, its fenced finish matches no row (the
   attempt number moved on) and its work is rolled back: never twice.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.jobs import campaign_tasks, event_tasks
from launch.models import ScheduledTask
from launch.services.scheduling import task_note

log = logging.getLogger(__name__)

#: What a handler returns: callables to run once its work is committed (they send signals).
AfterCommit = list[Callable[[], Any]]
Handler = Callable[[ScheduledTask, datetime], AfterCommit]
#: Default lease of a claimed task before a sweep considers its runner dead.
DEFAULT_LEASE_SECONDS = 300


@dataclass(frozen=True)
class Job:
    """A task kind's handler; `perishable`: useless once late past the grace (recorded missed instead)."""

    handler: Handler
    perishable: bool = False


#: Every task kind and what runs it: the one place to look up "what happens at this task's time".
HANDLERS: dict[str, Job] = {
    "event.state": Job(event_tasks.run_state),
    "event.readiness": Job(event_tasks.run_readiness, perishable=True),
    "event.reminder": Job(event_tasks.run_reminder, perishable=True),
    "event.absence": Job(event_tasks.run_absence),
    "campaign.open": Job(campaign_tasks.run_open),
    "campaign.close": Job(campaign_tasks.run_close),
    "campaign.remind_before": Job(campaign_tasks.run_remind_before, perishable=True),
    "campaign.remind": Job(campaign_tasks.run_remind, perishable=True),
    "campaign.escalate": Job(campaign_tasks.run_escalate, perishable=True),
    "campaign.summary": Job(campaign_tasks.run_summary),
}


def register(kind: str, handler: Handler, *, perishable: bool = False) -> None:
    """Add (or replace) a kind's handler: for tests, which run their own kinds through the real runner."""
    HANDLERS[kind] = Job(handler, perishable)


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
        .values(status="pending", last_error=task_note("recovered"))
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


def _after_commit(callbacks: AfterCommit | None) -> None:
    for callback in callbacks or []:
        try:
            callback()
        except Exception:  # an announcement must not undo committed work
            log.exception("after-commit callback failed")


def run_claimed(task_id: int, attempt: int, now: datetime) -> str:
    """Run a task this runner claimed; returns the status it ended with (`lost` if taken over)."""
    task = db.session.get(ScheduledTask, task_id)
    db.session.refresh(task)
    job = HANDLERS.get(task.kind)
    if job is not None and job.perishable and now - task.due_dt > _grace():
        message = task_note("past_grace", f"due {iso(task.due_dt)}, found {iso(now)}")
        ok = finish(task_id, attempt, "missed", now, message)
        db.session.commit()
        return "missed" if ok else "lost"
    try:
        if job is None:
            raise LookupError(f"no handler for task kind {task.kind!r}")
        if not finish(task_id, attempt, "done", now):
            db.session.rollback()
            return "lost"
        callbacks = job.handler(task, now)
        db.session.commit()
    except Exception as exc:  # recorded, never silently dropped
        db.session.rollback()
        log.exception("task %s (%s) failed", task_id, task.kind)
        ok = finish(task_id, attempt, "failed", now, task_note("failed", repr(exc)))
        db.session.commit()
        return "failed" if ok else "lost"
    _after_commit(callbacks)
    return "done"


def run_due_tasks(now: datetime | None = None) -> int:
    """Claim and run every due task, oldest first; returns how many this runner handled."""
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
