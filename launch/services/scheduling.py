"""Scheduled tasks as rows: the services plan work for later (`schedule_task`) and withdraw it
(`cancel_tasks`); the caller commits with the rest of its change.

What runs them, exactly once, and which handler each kind has: `launch.jobs.tasks`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update

from launch.clock import utcnow
from launch.extensions import db
from launch.models import ScheduledTask

#: Why a task ended as it did, stored in `last_error` as "<code>" or "<code>: <detail>": the pages say
#: it in the reader's language (`launch.web.events.task_note_text`), the detail stays for whoever
#: looks into it (a technical error, a state, a time).
TASK_NOTES = ("moved_past", "not_planned", "event_state", "no_event", "campaign_cancelled", "recovered",
              "past_grace", "failed")


def task_note(code: str, detail: object = "") -> str:
    """The stored note of a task: one of TASK_NOTES, with an optional detail."""
    return f"{code}: {detail}" if detail not in ("", None) else code


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
