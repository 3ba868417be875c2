"""APScheduler setup: one periodic sweep runs every due task stored in the database.

Tasks are rows (`ScheduledTask`), claimed atomically, so they survive restarts and run once
however many web processes exist. The scheduler runs in the web process for the embedded
default, and as its own process (`flask scheduler run`, the Procfile's `scheduler:`) when scaled out.
"""
from __future__ import annotations

import logging
import os
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)
_started = threading.Lock()
_scheduler: BackgroundScheduler | None = None


def sweep(app: Flask) -> int:
    """Run every due task once; returns how many ran."""
    from launch.services import scheduling

    with app.app_context():
        return scheduling.run_due_tasks()


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


def start_in_process(app: Flask) -> BackgroundScheduler | None:
    """Start the in-process scheduler once; never in Werkzeug's reloader parent."""
    global _scheduler
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None  # the reloader's watcher process: the child will start it
    with _started:
        if _scheduler is not None:
            return _scheduler
        scheduler = BackgroundScheduler(timezone="UTC", daemon=True)
        _add_jobs(scheduler, app)
        scheduler.start()
        _scheduler = scheduler
        log.info("in-process scheduler started")
        return scheduler


def run_forever(app: Flask) -> None:
    """The scheduler process: block and sweep until stopped."""
    scheduler = BlockingScheduler(timezone="UTC")
    _add_jobs(scheduler, app)
    log.info("scheduler process started")
    scheduler.start()
