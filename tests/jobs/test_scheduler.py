"""Where the scheduler runs: never in the reloader's watcher nor under CLI commands; `scheduler run --once`."""
from __future__ import annotations

import click
import pytest
from flask.cli import run_command

from launch.jobs import scheduler


@pytest.fixture
def fresh():
    scheduler.stop_in_process()
    yield
    scheduler.stop_in_process()


def test_reloader_watcher_does_not_start_a_scheduler(app, monkeypatch, fresh):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    with click.Context(run_command, info_name="run") as ctx:
        ctx.params["reload"] = True
        assert scheduler.start_in_process(app) is None  # the watcher
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        started = scheduler.start_in_process(app)  # the child that serves
        assert started is not None
        assert scheduler.start_in_process(app) is started  # once per process


def test_flask_run_without_reloader_starts_it(app, monkeypatch, fresh):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with click.Context(run_command, info_name="run") as ctx:
        ctx.params["reload"] = None
        assert scheduler.should_start_in_process(app)


def test_other_cli_commands_do_not_start_it(app, fresh):
    with click.Context(click.Command("upgrade"), info_name="upgrade"):
        assert not scheduler.should_start_in_process(app)


def test_debug_server_outside_cli_waits_for_the_reloader_child(app, monkeypatch):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    app.debug = True
    try:
        assert not scheduler.should_start_in_process(app)
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert scheduler.should_start_in_process(app)
    finally:
        app.debug = False


def test_production_web_processes_run_no_scheduler():
    from config import ProductionConfig

    assert ProductionConfig.SCHEDULER_ENABLED is False


def test_scheduler_run_once_command(app, users):
    from datetime import timedelta

    from sqlalchemy import select

    from launch.clock import utcnow
    from launch.extensions import db
    from launch.models import ScheduledTask
    from launch.services import events

    start = utcnow() + timedelta(minutes=30)
    event = events.create_event({"title": "T", "start": start, "end": start + timedelta(hours=1),
                                 "test_window_minutes": 40}, actor=users["operator"], publish=True)
    result = app.test_cli_runner().invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(type(event), event.id).state == "testing"  # the window opened 10 minutes ago
    done = db.session.scalars(select(ScheduledTask.kind).where(ScheduledTask.status == "done")).all()
    assert "event.state" in done and "event.readiness" in done
