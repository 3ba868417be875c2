"""Issue 14 phase B, the services: a wrong check-in undone (the host briefly, an operator any time,
audited, the wall told through the signals), a reported problem marked resolved with how long it
lasted, a host page that closes shown quietly (an alarm only for a page that vanishes), and people
expected from the roster ("unknown", never 0)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, AuditEntry, EventPoint, PointProblem, UndoneCheckin
from launch.services import checkin, presence, reports, tokens, wall
from launch.services.checkin import CheckinRefused
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of

pytestmark = pytest.mark.usefixtures("clock")
BINH_THANH, BINH_SON, TP = "21046", "524", "522"


@pytest.fixture
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def tile(event, code: str, now=None) -> dict:
    return next(t for t in wall.load_tiles(event, now=now or DURING) if t["code"] == code)


def scan(point, user, person, client_id: str, *, now=None):
    return checkin.check_in_attendee(point, user, client_id=client_id, badge=tokens.badge_token(person),
                                     now=now or DURING)


# --- item 8: undo a person's check-in -------------------------------------------------------------

def test_the_host_undoes_a_wrong_scan_at_once_and_the_person_can_be_checked_in_again(event, users, announced):
    point = point_of(event, BINH_THANH)
    host = users["commune_host"]
    person = add_attendee(event, BINH_THANH, "Lê Văn Cường")
    done = scan(point, host, person, "scan-wrong-0001")
    assert tile(event, BINH_THANH)["attendees"] == 1
    announced.clear()

    result = checkin.undo_attendee_checkin(done.data["checkin_id"], host, now=DURING + timedelta(minutes=2))
    assert result.code == "undone" and result.data["attendee"]["id"] == person.id
    assert count(AttendeeCheckin) == 0
    kept = db.session.scalar(select(UndoneCheckin))
    assert (kept.client_id, kept.attendee_id, kept.undone_by_id) == ("scan-wrong-0001", person.id, host.id)
    assert kept.undone_dt == DURING + timedelta(minutes=2)
    assert count(Activity, Activity.kind == "attendee_checkin_undone", Activity.event_point_id == point.id) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.undone"))
    assert entry.user_id == host.id and entry.details["point_id"] == point.id
    # The wall is told through the signals, like every other check-in write, and counts from the database.
    assert [(e, kind, p) for e, kind, p, _data in announced] == [(event.id, "attendee_checkin_undone", point.id)]
    assert tile(event, BINH_THANH)["attendees"] == 0
    assert wall.full_view(event.id, now=DURING)["counters"]["attendee_checkins"] == 0

    # The right scan goes through; a late retry of the undone scan is refused and records nothing.
    again = scan(point, host, person, "scan-right-0002")
    assert again.code == "checked_in" and count(AttendeeCheckin) == 1
    with pytest.raises(CheckinRefused) as info:
        scan(point, host, person, "scan-wrong-0001")
    assert info.value.code == "undone" and info.value.status == 409
    assert count(AttendeeCheckin) == 1


def test_after_the_window_only_an_operator_undoes_and_nobody_undoes_twice(event, users, announced):
    point = point_of(event, BINH_THANH)
    person = add_attendee(event, BINH_THANH)
    done = scan(point, users["commune_host"], person, "scan-late-00001")
    later = DURING + checkin.undo_window() + timedelta(seconds=1)
    for key in ("commune_host", "district_host"):  # the district's host acts for the commune, same window
        with pytest.raises(CheckinRefused) as info:
            checkin.undo_attendee_checkin(done.data["checkin_id"], users[key], now=later)
        assert info.value.code == "undo_too_late" and info.value.status == 409
    for key in ("other_host", "viewer"):
        with pytest.raises(CheckinRefused) as info:
            checkin.undo_attendee_checkin(done.data["checkin_id"], users[key], now=DURING)
        assert info.value.code == "not_your_point"
    assert count(AttendeeCheckin) == 1 and count(UndoneCheckin) == 0
    assert count(AuditEntry, AuditEntry.action == "checkin.undone") == 0

    checkin.undo_attendee_checkin(done.data["checkin_id"], users["operator"], now=DURING + timedelta(hours=3))
    with pytest.raises(CheckinRefused) as info:
        checkin.undo_attendee_checkin(done.data["checkin_id"], users["operator"])
    assert info.value.code == "unknown_checkin" and info.value.status == 404
    for junk in ("abc", None, 10**30, -1):
        with pytest.raises(CheckinRefused) as info:
            checkin.undo_attendee_checkin(junk, users["operator"])
        assert info.value.code == "unknown_checkin"
    assert count(UndoneCheckin) == 1


# --- item 8: undo the point's own check-in -------------------------------------------------------

def test_a_point_check_in_is_undone_by_its_host_briefly_and_by_an_operator_later(event, users, announced):
    point = point_of(event, BINH_THANH)
    host = users["commune_host"]
    checkin.check_in_site(tokens.site_token(point), host, now=DURING)
    announced.clear()
    result = checkin.undo_site_checkin(point, host, now=DURING + timedelta(minutes=1))
    assert result.code == "undone" and result.data["checked_in"] is False
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert (point.checked_in_dt, point.checked_in_by_id, point.checkin_method) == (None, None, None)
    assert [(kind, p) for _e, kind, p, _d in announced] == [("site_checkin_undone", point.id)]
    assert tile(event, BINH_THANH)["checked_in"] is False
    assert count(AuditEntry, AuditEntry.action == "checkin.site_undone") == 1
    with pytest.raises(CheckinRefused) as info:  # nothing to undo now
        checkin.undo_site_checkin(point, host)
    assert info.value.code == "not_checked_in"

    checkin.check_in_site(tokens.site_token(point), host, now=DURING)  # scanned again: checked in again
    with pytest.raises(CheckinRefused) as info:
        checkin.undo_site_checkin(point, host, now=DURING + timedelta(hours=1))
    assert info.value.code == "undo_too_late"
    checkin.undo_site_checkin(point, users["operator"], now=DURING + timedelta(hours=1))
    assert db.session.get(EventPoint, point.id).checked_in_dt is None
    assert count(Activity, Activity.kind == "site_checkin_undone") == 2


# --- item 11: a problem marked resolved, and how long it lasted ------------------------------------

def test_a_problem_is_marked_resolved_by_the_host_and_the_report_says_how_long_it_lasted(app, event, users,
                                                                                         announced):
    point = point_of(event, BINH_THANH)
    host = users["commune_host"]
    reported = checkin.report_problem(point, host, "no_audio", now=DURING)
    problem_id = reported.data["problem_id"]
    assert tile(event, BINH_THANH)["status"] == "problem"
    assert tile(event, BINH_THANH)["problem"]["id"] == problem_id
    assert [a["reason"] for a in wall.needs_attention(wall.load_tiles(event, now=DURING)) if a["id"] == point.id] \
        == ["problem"]
    announced.clear()

    for key in ("other_host", "viewer"):
        with pytest.raises(CheckinRefused) as info:
            checkin.resolve_problem(point, problem_id, users[key])
        assert info.value.code == "not_your_point"
    with pytest.raises(CheckinRefused) as info:  # a problem of another point
        checkin.resolve_problem(point_of(event, TP), problem_id, users["operator"])
    assert info.value.code == "unknown_problem"

    result = checkin.resolve_problem(point, problem_id, host, now=DURING + timedelta(minutes=12, seconds=5))
    assert result.code == "problem_resolved" and result.data["seconds"] == 12 * 60 + 5
    problem = db.session.get(PointProblem, problem_id)
    assert problem.resolved_by_id == host.id and problem.resolved_dt == DURING + timedelta(minutes=12, seconds=5)
    assert [(kind, p) for _e, kind, p, _d in announced] == [("problem_resolved", point.id)]
    assert tile(event, BINH_THANH)["problem"] is None and tile(event, BINH_THANH)["status"] != "problem"
    assert point.id not in {a["id"] for a in wall.needs_attention(wall.load_tiles(event, now=DURING))
                            if a["reason"] == "problem"}
    assert count(AuditEntry, AuditEntry.action == "checkin.problem_resolved") == 1
    with pytest.raises(CheckinRefused) as info:
        checkin.resolve_problem(point, problem_id, users["operator"])
    assert info.value.code == "already_resolved" and host.display_name in str(info.value.message)

    # An operator resolves another; one stays open: the report gives each its duration.
    second = checkin.report_problem(point, host, "no_video", now=DURING + timedelta(minutes=20)).data["problem_id"]
    checkin.resolve_problem(point, second, users["operator"], now=DURING + timedelta(hours=1, minutes=25))
    checkin.report_problem(point, host, "other", "Mất điện", now=DURING + timedelta(minutes=30))
    report = reports.attendance_report(event.id, now=DURING + timedelta(minutes=35))
    row = next(r for r in report["rows"] if r["code"] == BINH_THANH)
    assert [(s["kind"], s["seconds"], s["open"]) for s in row["problem_spans"]] == [
        ("no_audio", 725, False), ("no_video", 65 * 60, False), ("other", 5 * 60, True)]
    with app.test_request_context(), force_locale("en"):
        with_texts = [reports.problem_text(s) for s in row["problem_spans"]]
        assert with_texts == ["No audio (12 min)", "No video (1 h 05 min)", "Other problem (open, 5 min)"]
        csv_row = next(r for r in reports.export_rows(report) if r[0] == BINH_THANH)
        assert csv_row[11] == "; ".join(with_texts)


# --- item 10: a page that closes is quiet; a page that vanishes is an alarm -------------------------

def test_a_host_page_that_says_it_closes_is_not_a_lost_signal(app, event, users, announced):
    point = point_of(event, BINH_THANH)
    timeout = wall.presence_timeout()
    presence.record_heartbeat(point.id, now=DURING)
    assert tile(event, BINH_THANH)["page_live"] is True
    announced.clear()

    assert presence.record_page_closing(point.id, now=DURING + timedelta(seconds=5)) is True
    assert [(kind, p) for _e, kind, p, _d in announced] == [("presence_closed", point.id)]
    assert presence.record_page_closing(point.id) is False  # said once
    later = DURING + timeout * 3
    assert presence.check_presence(now=later) == 0
    quiet = tile(event, BINH_THANH, now=later)
    assert (quiet["page_live"], quiet["signal_lost"]) == (False, False)
    assert quiet["page_closed_at"] == "2023-07-28T00:30:05Z" and quiet["status"] != "signal_lost"
    assert count(Activity, Activity.kind == "presence_lost") == 0
    assert point.id not in {a["id"] for a in wall.needs_attention(wall.load_tiles(event, now=later))
                            if a["reason"] == "signal_lost"}

    # Reopened: the next heartbeat (not throttled) brings it back at once, told to the wall.
    announced.clear()
    assert presence.record_heartbeat(point.id, now=DURING + timedelta(seconds=8)) is True
    assert [(kind, p) for _e, kind, p, _d in announced] == [("presence", point.id)]
    back = tile(event, BINH_THANH, now=DURING + timedelta(seconds=9))
    assert back["page_live"] is True and back["page_closed_at"] is None

    # Then it vanishes without a word: after the timeout it is an alarm.
    gone = DURING + timedelta(seconds=8) + timeout + timedelta(seconds=1)
    assert presence.check_presence(now=gone) == 1
    assert tile(event, BINH_THANH, now=gone)["signal_lost"] is True


def test_the_report_timeline_does_not_count_a_closed_page_as_live(app, event, users):
    point = point_of(event, BINH_THANH)
    presence.record_heartbeat(point.id, now=DURING)
    presence.record_page_closing(point.id, now=DURING + timedelta(minutes=3))
    line = reports.timeline(event.id, now=DURING + timedelta(minutes=6))
    start = line["labels"].index("2023-07-28T00:30:00Z")
    assert line["page_live"][start:start + 6] == [1, 1, 1, 0, 0, 0]


# --- item 13: people expected from the roster; unknown is "—", never 0 ----------------------------

def test_expected_people_come_from_the_roster_else_the_set_figure_else_unknown(event, users):
    commune, district = point_of(event, BINH_THANH), point_of(event, BINH_SON)
    commune.expected_attendance, district.expected_attendance = 0, 0
    for p in db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id)):
        p.expected_attendance = 0
    db.session.commit()
    view = wall.full_view(event.id, now=DURING)
    assert {t["expected"] for t in view["tiles"]} == {None}
    assert view["counters"]["attendees_expected"] is None  # "—" on the wall, never "x/0"
    report = reports.attendance_report(event.id, now=DURING)
    assert report["province"]["expected"] is None
    assert next(r for r in reports.export_rows(report) if r[0] == BINH_THANH)[10] == ""

    district.expected_attendance = 30
    db.session.commit()
    for name in ("Trần Thị Bình", "Lê Văn Cường"):
        add_attendee(event, BINH_THANH, name)
    add_attendee(event, "21052", "Phạm Văn Dũng")  # a commune of Bình Sơn that is not invited: at its district
    assert tile(event, BINH_THANH)["expected"] == 2
    assert tile(event, BINH_SON)["expected"] == 1  # its own roster wins over the figure set for it
    assert tile(event, TP)["expected"] is None
    assert wall.full_view(event.id, now=DURING)["counters"]["attendees_expected"] == 3
    assert reports.attendance_report(event.id, now=DURING)["province"]["expected"] == 3
