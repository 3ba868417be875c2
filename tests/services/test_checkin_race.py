"""Two phones scanning the same person (or the same point's QR) at the same moment: exactly one wins.

Only meaningful on PostgreSQL, where the two transactions really run at once; SQLite serialises
writers, so these tests run on PostgreSQL only (they override the `database` fixture).
"""
from __future__ import annotations

import threading

import pytest
import time_machine
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, EventPoint, User
from launch.services import checkin, tokens
from launch.services.checkin import CheckinRefused
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of


@pytest.fixture
def database():
    """These races need concurrent transactions: PostgreSQL only (SQLite serialises writers)."""
    return "postgres"


def run_together(app, calls):
    """Run each `calls[i]()` in its own thread and app context, released at the same instant."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, fn):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = fn()
            except CheckinRefused as exc:
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    # One clock for all threads (time-machine patches the process, so never enter it per thread).
    with time_machine.travel(DURING, tick=False):
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    return results


def test_same_person_at_two_points_exactly_one_wins(app, users, monkeypatch):
    announced = capture_announcements(monkeypatch)
    event = make_event(start_dt=START, unit_codes=CODES)
    people = [add_attendee(event, "21046", f"Người số {i}") for i in range(12)]
    here, there = point_of(event, "21046").id, point_of(event, "524").id
    chost, dhost = users["commune_host"].id, users["district_host"].id
    # Hold both scans after their window checks, so both reach the duplicate check and the INSERT
    # together (the loser is then normally stopped by the unique key, not by the pre-check).
    both_checked = threading.Barrier(2)
    real_check_window = checkin.check_window

    def check_window_then_wait(event, at):
        real_check_window(event, at)
        both_checked.wait(10)

    monkeypatch.setattr("launch.services.checkin.attendees.check_window", check_window_then_wait)

    def scan(point_id, user_id, person_id, n):
        def call():
            return checkin.check_in_attendee(db.session.get(EventPoint, point_id), db.session.get(User, user_id),
                                             client_id=f"race-{person_id}-{n}", attendee_id=person_id)
        return call

    for person in people:
        results = run_together(app, [scan(here, chost, person.id, 1), scan(there, dhost, person.id, 2)])
        winners = [r for r in results if isinstance(r, checkin.CheckinResult)]
        losers = [r for r in results if isinstance(r, CheckinRefused)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].code == "checked_in_elsewhere"
        assert losers[0].details["point_id"] == winners[0].data["point_id"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin)) == len(people)
    assert db.session.scalar(select(func.count()).select_from(Activity)) == len(people)
    assert len(announced) == len(people)


def test_same_scan_retried_concurrently_is_recorded_once(app, users, monkeypatch):
    capture_announcements(monkeypatch)
    event = make_event(start_dt=START, unit_codes=CODES)
    person = add_attendee(event, "21046")
    point_id, user_id = point_of(event, "21046").id, users["commune_host"].id

    def call():
        return checkin.check_in_attendee(db.session.get(EventPoint, point_id), db.session.get(User, user_id),
                                         client_id="same-scan-123", attendee_id=person.id)

    results = run_together(app, [call, call, call])
    assert all(isinstance(r, checkin.CheckinResult) and r.code == "checked_in" for r in results), results
    assert sorted(r.data["replay"] for r in results) == [False, True, True]
    assert db.session.scalar(select(func.count()).select_from(AttendeeCheckin)) == 1


def test_site_checked_in_once_by_two_hosts_at_once(app, users, monkeypatch):
    announced = capture_announcements(monkeypatch)
    event = make_event(start_dt=START, unit_codes=CODES)
    point = point_of(event, "21046")
    token = tokens.site_token(point)
    ids = [users["commune_host"].id, users["district_host"].id]

    def call(user_id):
        return lambda: checkin.check_in_site(token, db.session.get(User, user_id))

    results = run_together(app, [call(i) for i in ids])
    codes = sorted(r.code for r in results)
    assert codes == ["already_checked_in", "checked_in"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
    assert len(announced) == 1
