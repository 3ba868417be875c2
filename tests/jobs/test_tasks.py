"""The task runner: exactly once across restarts, crashes and concurrent schedulers; grace for late tasks."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from launch.extensions import db
from launch.jobs import tasks
from launch.models import Notification, ScheduledTask
from launch.services import events, scheduling
from tests.services.test_events import NOW, START, base

RAN: list[int] = []
_lock = threading.Lock()


def _count(task, now):
    with _lock:
        RAN.append(task.id)


def _boom(task, now):
    raise RuntimeError("boom")


tasks.register("test.count", _count)
tasks.register("test.boom", _boom)


@pytest.fixture
def reminder(users):
    """An event whose only task of interest is the 60-minute reminder."""
    event = events.create_event(base(reminder_offsets="60"), actor=users["operator"], now=NOW, publish=True)
    task = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == "event.reminder"))
    return event, task


def reminder_notices(task) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.task_id == task.id))


def status(task) -> str:
    db.session.expire_all()
    return db.session.get(ScheduledTask, task.id).status


def test_restart_within_grace_sends_the_missed_reminder(reminder):
    _event, task = reminder
    # The scheduler was down at the due time and comes back 20 minutes later (grace: 30).
    tasks.run_due_tasks(task.due_dt + timedelta(minutes=20))
    assert status(task) == "done" and reminder_notices(task) == 3


def test_restart_past_grace_records_the_reminder_missed(reminder):
    _event, task = reminder
    tasks.run_due_tasks(task.due_dt + timedelta(minutes=31))
    assert status(task) == "missed" and reminder_notices(task) == 0
    assert db.session.get(ScheduledTask, task.id).last_error.startswith("past_grace: due ")


def test_killed_mid_run_is_recovered_and_sent_once(reminder, monkeypatch):
    _event, task = reminder
    due = task.due_dt

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies inside the handler: nothing of its work commits

    monkeypatch.setattr("launch.services.events.notices.reminder_text", killed)
    with pytest.raises(KeyboardInterrupt):
        tasks.run_due_tasks(due)
    db.session.rollback()
    monkeypatch.undo()
    assert status(task) == "running" and reminder_notices(task) == 0
    # Restarted right away: the lease has not run out, so it is not taken twice.
    tasks.run_due_tasks(due + timedelta(minutes=1))
    assert status(task) == "running"
    # After the lease (5 min) the next sweep recovers it, within the grace: sent once.
    tasks.run_due_tasks(due + timedelta(minutes=6))
    assert status(task) == "done" and reminder_notices(task) == 3
    tasks.run_due_tasks(due + timedelta(minutes=20))
    assert reminder_notices(task) == 3
    assert db.session.get(ScheduledTask, task.id).attempts == 2


def test_killed_and_back_past_grace_is_missed(reminder, monkeypatch):
    _event, task = reminder
    attempt = tasks.claim(task.id, task.due_dt)  # claimed, then the process was killed
    assert attempt == 1
    tasks.run_due_tasks(task.due_dt + timedelta(hours=1))
    assert status(task) == "missed" and reminder_notices(task) == 0


def test_a_slow_runner_that_lost_its_task_cannot_finish_it(reminder):
    _event, task = reminder
    slow = tasks.claim(task.id, task.due_dt)
    # The slow runner looks dead; another sweep recovers the task and runs it.
    tasks.run_due_tasks(task.due_dt + timedelta(minutes=6))
    assert status(task) == "done" and reminder_notices(task) == 3
    # The first runner wakes up: its fenced run changes nothing.
    assert tasks.run_claimed(task.id, slow, task.due_dt + timedelta(minutes=7)) == "lost"
    assert status(task) == "done" and reminder_notices(task) == 3


def test_a_failing_handler_is_recorded_failed(app):
    task = scheduling.schedule_task("test.boom", NOW)
    db.session.commit()
    tasks.run_due_tasks(NOW)
    row = db.session.get(ScheduledTask, task.id)
    assert row.status == "failed" and "boom" in row.last_error


def test_unknown_kind_is_failed_not_dropped(app):
    task = scheduling.schedule_task("nobody.handles.this", NOW)
    db.session.commit()
    tasks.run_due_tasks(NOW)
    assert db.session.get(ScheduledTask, task.id).status == "failed"


def test_future_tasks_wait(app):
    task = scheduling.schedule_task("test.count", NOW + timedelta(seconds=1))
    db.session.commit()
    assert tasks.run_due_tasks(NOW) == 0
    assert db.session.get(ScheduledTask, task.id).status == "pending"


def test_cancel_tasks_of_an_event(reminder):
    event, _task = reminder
    n = scheduling.cancel_tasks(event_id=event.id, kinds=["event.reminder"], now=NOW)
    db.session.commit()
    assert n == 1
    assert db.session.scalar(select(ScheduledTask.status).where(ScheduledTask.kind == "event.reminder")) == "cancelled"


def test_concurrent_schedulers_run_each_task_once_on_postgres(request):
    """Four schedulers sweep the same 60 due tasks at the same moment: each runs once."""
    from tests.conftest import make_app

    app = make_app("postgres", request)
    RAN.clear()
    with app.app_context():
        ids = [scheduling.schedule_task("test.count", NOW - timedelta(seconds=i)) for i in range(60)]
        db.session.commit()
        ids = [t.id for t in ids]
    barrier = threading.Barrier(4)
    handled: list[int] = []
    errors: list[BaseException] = []

    def runner():
        try:
            with app.app_context():
                barrier.wait()
                handled.append(tasks.run_due_tasks(NOW))
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(RAN) == sorted(ids)  # every task ran, none twice
    assert sum(handled) == 60
    with app.app_context():
        statuses = db.session.scalars(select(ScheduledTask.status)).all()
        assert set(statuses) == {"done"}
        db.session.remove()
        db.engine.dispose()


def test_concurrent_reminders_are_sent_once_on_postgres(request):
    """Two scheduler processes' sweeps race over a whole event's tasks: each notice exists once."""
    from tests.conftest import make_app
    from tests.support.factories import make_event

    app = make_app("postgres", request)
    with app.app_context():
        from launch.services.directory import import_bundled_directory
        from launch.services.users import create_user

        import_bundled_directory()
        create_user("h1", "test-pass-2023", "host", unit_codes=("524",))
        create_user("h2", "test-pass-2023", "host", unit_codes=("21046",))
        event = make_event(start_dt=START)
        event.reminder_offsets = [20, 15]
        events.sync_tasks(event, NOW, moved=False)
        db.session.commit()
        event_id = event.id
    barrier = threading.Barrier(2)

    def runner():
        with app.app_context():
            barrier.wait()
            tasks.run_due_tasks(START - timedelta(minutes=15))
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).join(ScheduledTask, ScheduledTask.id == Notification.task_id)
            .where(Notification.event_id == event_id, ScheduledTask.kind == "event.reminder")).all()
        pairs = [(n.task_id, n.user_id, n.channel_kind) for n in rows]
        assert len(pairs) == len(set(pairs)) == 4  # 2 reminders x 2 hosts
        db.session.remove()
        db.engine.dispose()
