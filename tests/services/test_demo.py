"""`flask demo load`: the ended launch of 28 July 2023 on the 2023 map, with its report, beside an
upcoming launch on today's Quảng Ngãi map (the IOC and its 96 communes); idempotent."""
from __future__ import annotations

from sqlalchemy import func, select

from launch.clock import to_local, utcnow
from launch.demo import history, load_demo
from launch.demo.events import DEMO_TITLE
from launch.extensions import db
from launch.models import Attendee, Event, User
from launch.services import access, events, reports
from tests.conftest import login


def test_the_demo_holds_the_2023_launch_with_its_report_and_an_upcoming_one_on_todays_map(app):
    load_demo()
    past = db.session.scalar(select(Event).where(Event.title == history.HISTORY_TITLE))
    upcoming = db.session.scalar(select(Event).where(Event.title == DEMO_TITLE))
    assert (past.state, past.edition, to_local(past.start_dt).date().isoformat()) == ("ended", "2023", "2023-07-28")
    assert len(events.invited_points(past)) == 186
    report = reports.attendance_report(past.id)
    total = report["province"]
    assert total["invited"] == 186 and 170 <= total["checked_in"] < 186
    assert total["late"] > 0 and total["absent"] > 0 and total["on_time"] > total["late"]
    assert report["group_level"] == "district" and len(report["districts"]) == 13
    assert reports.timeline(past.id)["checked_in"][-1] == total["checked_in"]

    assert (upcoming.state, upcoming.edition, upcoming.host_unit.code) == ("scheduled", "2025", "51")
    assert upcoming.start_dt > utcnow() and len(events.invited_points(upcoming)) == 96
    assert db.session.scalar(select(func.count()).select_from(Attendee).where(Attendee.event_id == upcoming.id)) == 40
    binhson = db.session.scalar(select(User).where(User.username == "binhson"))
    their_points = events.user_points(binhson, upcoming)
    assert [p.unit.name for p in their_points] == ["Xã Bình Sơn"]
    assert access.can_act_for(binhson, their_points[0].unit_id)

    load_demo()  # again: nothing added
    assert db.session.scalar(select(func.count()).select_from(Event)) == 2


def test_the_ended_launchs_report_reads_as_the_day_left_it(app):
    load_demo()
    past = db.session.scalar(select(Event).where(Event.title == history.HISTORY_TITLE))
    client = app.test_client()
    login(client, "ioc", "ioc-demo-2023")
    page = client.get(f"/wall/{past.id}/report").get_data(as_text=True)
    assert "Huyện Bình Sơn" in page and "Xã Bình Thạnh" in page  # the 2023 map's names
    csv_text = client.get(f"/wall/{past.id}/report.csv").get_data().decode("utf-8-sig")
    assert csv_text.count("\n") == 1 + 187
