"""Issue 15, phase B: the operator's day is safe and clear (what asks first, what leaves the lists)."""
from __future__ import annotations

from datetime import timedelta

from launch.clock import utcnow
from launch.extensions import db
from launch.services import events


def test_an_event_ended_early_leaves_the_upcoming_events(as_user, users):
    start = utcnow() + timedelta(minutes=5)
    event = events.create_event({"title": "Lễ phát động sớm", "start": start, "end": start + timedelta(hours=2),
                                 "invite": {"mode": "all"}}, actor=users["operator"], publish=True)
    op = as_user("operator")
    assert event.title in op.get("/").get_data(as_text=True)
    for to in ("live", "ended"):
        assert op.post(f"/events/{event.id}/state", data={"to": to}).status_code == 302
    db.session.expire_all()
    assert event.state == "ended" and event.end_dt > utcnow()  # ended before its planned end
    assert event.title not in op.get("/").get_data(as_text=True)
    assert event.title not in op.get("/events/?when=upcoming").get_data(as_text=True)
    assert event.title in op.get("/events/?when=past").get_data(as_text=True)
    assert event not in events.upcoming_for(users["commune_host"])
