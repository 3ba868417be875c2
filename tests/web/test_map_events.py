"""The event form on two maps: hosts and areas listed by map, an area of another map refused."""
from __future__ import annotations

from sqlalchemy import select

from launch.extensions import db
from launch.models import Event, Unit
from launch.services.directory import import_current_map
from tests.conftest import login


def test_the_event_form_offers_areas_and_hosts_by_map(directory, make_user):
    import_current_map("51")
    make_user("operator", username="op")
    client = directory.test_client()
    login(client, "op")
    page = client.get("/events/new").get_data(as_text=True)
    assert 'value="2023:524"' in page and page.count("<optgroup") == 2
    post = {"title": "Hội nghị", "start": "2030-03-05T08:00", "end": "2030-03-05T09:30", "invite_mode": "select",
            "invite_districts": "2023:524", "publish": "0"}
    assert client.post("/events/new", data=post).status_code == 400  # the default host is on today's map
    assert db.session.scalar(select(Event.id)) is None
    old_host = db.session.scalar(select(Unit).where(Unit.edition == "2023", Unit.level == "province"))
    assert client.post("/events/new", data={**post, "host_unit_id": old_host.id}).status_code == 302
    event = db.session.scalar(select(Event))
    assert event.edition == "2023" and len(event.points) == 1 + 1 + 22  # the IOC, Bình Sơn and its communes
