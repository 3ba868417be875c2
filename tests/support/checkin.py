"""Helpers shared by the check-in, QR, roster and API tests (no tests here)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from launch.extensions import db
from launch.models import Attendee, Unit
from launch.services.roster import new_badge_code
from launch.services.text import fold

#: 28 July 2023, 08:00 in Quảng Ngãi: the launch. The check-in window opens an hour before.
START = datetime(2023, 7, 28, 1, 0, tzinfo=UTC)
#: Inside the window (07:30 local).
DURING = datetime(2023, 7, 28, 0, 30, tzinfo=UTC)
CODES = ["524", "21046", "21043", "522"]


def add_attendee(event, code: str, name: str = "Nguyễn Văn An", position: str | None = "Chủ tịch") -> Attendee:
    """A person on `event`'s roster at unit `code`."""
    unit = db.session.query(Unit).filter_by(code=code).one()
    person = Attendee(event_id=event.id, unit_id=unit.id, full_name=name, search_name=fold(name),
                      position=position, badge_code=new_badge_code())
    db.session.add(person)
    db.session.commit()
    return person


def capture_announcements(monkeypatch: pytest.MonkeyPatch) -> list:
    """Replace publisher.announce with a recorder; returns the list of (event_id, kind, point_id, data)."""
    from launch.realtime import publisher

    calls: list = []
    monkeypatch.setattr(publisher, "announce", lambda event_id, kind, event_point_id=None, data=None:
                        calls.append((event_id, kind, event_point_id, data)))
    return calls
