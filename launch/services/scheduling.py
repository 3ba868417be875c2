"""Scheduled tasks stored as rows: creating them, and running the due ones exactly once.

Feature modules register a handler per task kind with `@task_handler("kind")`; the scheduler's
sweep calls `run_due_tasks()`, which claims each due row atomically and calls its handler.
(The events feature completes this module: claiming, grace/missed handling, retries.)
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from launch.models import ScheduledTask

#: kind -> handler(task). The handler does the work and may commit; errors are recorded on the task.
TASK_HANDLERS: dict[str, Callable[[ScheduledTask], Any]] = {}


def task_handler(kind: str) -> Callable[[Callable[[ScheduledTask], Any]], Callable[[ScheduledTask], Any]]:
    """Register the function that runs tasks of `kind`."""

    def decorator(func: Callable[[ScheduledTask], Any]) -> Callable[[ScheduledTask], Any]:
        TASK_HANDLERS[kind] = func
        return func

    return decorator


def load_handlers() -> None:
    """Import the feature modules so their handlers are registered."""
    import launch.services.campaigns  # noqa: F401
    import launch.services.events  # noqa: F401


def run_due_tasks(now: datetime | None = None) -> int:
    """Claim and run every due task; returns how many ran."""
    return 0
