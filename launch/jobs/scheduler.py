"""APScheduler setup: one periodic sweep runs every due task stored in the database.

Tasks are rows (`ScheduledTask`), claimed atomically, so they survive restarts and run once
however many web processes exist. The scheduler runs in the web process for the embedded
default, and as its own process (`flask scheduler run`, the Procfile's `scheduler:`) when scaled out.
"""
from __future__ import annotations

import logging
import os
import threading

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)
_started = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def sweep(app: Flask) -> int:
    """Run every due task once, then deliver the pending e-mail and webhook notices; returns tasks run."""
    from launch.jobs.tasks import run_due_tasks
    from launch.services import notifications

    with app.app_context():
        try:
            return run_due_tasks()
        finally:
            try:
                notifications.deliver_pending()
            except Exception:  # the next sweep tries again; rows stay pending
                log.exception("notice delivery failed")


def presence(app: Flask) -> int:
    """Flag host pages that went silent (signal lost) and announce it."""
    from launch.services.presence import check_presence

    with app.app_context():
        return check_presence()


def _add_jobs(scheduler: BackgroundScheduler | BlockingScheduler, app: Flask) -> None:
    scheduler.add_job(
        presence,
        "interval",
        args=[app],
        seconds=app.config.get("PRESENCE_SWEEP_SECONDS", 5),
        id="presence",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
    scheduler.add_job(
        sweep,
        "interval",
        args=[app],
        seconds=app.config["SCHEDULER_SWEEP_SECONDS"],
        id="sweep",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )


def should_start_in_process(app: Flask) -> bool:
    """False in Werkzeug's reloader watcher (its child serves and schedules) and under CLI commands.

    `flask run` with the reloader (``--reload`` or ``--debug``) loads the app in the watcher process
    too; only the child (WERKZEUG_RUN_MAIN=true) may start the scheduler, or every job would have two
    schedulers. Other commands (`flask db upgrade`, `flask scheduler run`, ...) serve nothing.
    """
    child = os.environ.get("WERKZEUG_RUN_MAIN") == "true"
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        from flask.cli import run_command

        if ctx.command is not run_command:
            return False  # a CLI command (the scheduler process runs its own, blocking, scheduler)
        from flask.helpers import get_debug_flag

        reload = ctx.params.get("reload")
        if reload is None:  # as `flask run` decides it
            reload = get_debug_flag()
        return child or not reload
    # socketio.run/app.run in debug: the reloader's child will start it.
    return child or not app.debug


def start_in_process(app: Flask) -> BackgroundScheduler | None:
    """Start the in-process scheduler once; never in Werkzeug's reloader parent."""
    global _scheduler
    if not should_start_in_process(app):
        return None
    with _started:
        if _scheduler is not None:
            return _scheduler
        scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
        _add_jobs(scheduler, app)
        scheduler.start()
        _scheduler = scheduler
        log.info("in-process scheduler started")
        return scheduler


def stop_in_process() -> None:
    """Stop the in-process scheduler (tests, shutdown)."""
    global _scheduler
    with _started:
        if _scheduler is not None:
            _scheduler.shutdown(wait=False)
            _scheduler = None


def run_forever(app: Flask) -> None:
    """The scheduler process: block and sweep until stopped."""
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, app)
    log.info("scheduler process started")
    scheduler.start()
