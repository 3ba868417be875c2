"""Trust, round two (issue 16), beyond phase A: presence credentials and heartbeat throttling, a host's
roster search limited to their units, Zoom participants that land on the right point, campaign reports
that land on their unit. (The items in the check-in, events and campaigns services: test_trust_pending.py.)"""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from launch.clock import utcnow
from launch.extensions import db, socketio
from launch.models import EventPoint, User
from launch.services import presence
from launch.services import users as user_svc
from tests.support.factories import make_event, point_of

BINH_THANH, BINH_SON, TP = "21046", "524", "522"


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


# --- 8. presence needs the signed-in host, or a short-lived token issued to them -----------------------

@pytest.fixture
def testing_event(users):
    return make_event(state="testing")


def test_a_presence_token_expires_and_dies_with_its_issuers_session(app, testing_event):
    point = point_of(testing_event, BINH_THANH)
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        token = presence.presence_token(point, user("chost"))
        assert presence.point_for_token(token, point.id) == point
        traveller.shift(timedelta(seconds=app.config["PRESENCE_TOKEN_SECONDS"] + 1))
        assert presence.point_for_token(token, point.id) is None  # short-lived
    token = presence.presence_token(point, user("chost"))
    assert socketio.test_client(app, auth={"point": point.id, "token": token}).is_connected()
    user_svc.sign_out(user("chost"))
    assert presence.point_for_token(token, point.id) is None
    assert not socketio.test_client(app, auth={"point": point.id, "token": token}).is_connected()
    # A token issued to someone who cannot act for the point opens nothing.
    assert presence.point_for_token(presence.presence_token(point, user("ohost")), point.id) is None


def test_heartbeats_are_throttled_per_point_and_do_not_commit_per_beat(app, testing_event, as_user):
    point = point_of(testing_event, BINH_THANH)
    page = socketio.test_client(app, flask_test_client=as_user("commune_host"), auth={"point": point.id})
    assert page.is_connected()
    commits = {"n": 0}

    def count(_conn):  # noqa: ANN001
        commits["n"] += 1

    sa_event.listen(db.engine, "commit", count)
    try:
        answers = [page.emit("heartbeat", {}, callback=True) for _ in range(300)]
    finally:
        sa_event.remove(db.engine, "commit", count)
    assert all(a["ok"] is True for a in answers)  # the page is told nothing is wrong
    assert commits["n"] == 0  # the connect wrote last_seen; the burst within one interval wrote nothing
    db.session.expire_all()
    seen = db.session.get(EventPoint, point.id).last_seen_dt
    assert seen is not None
    later = utcnow() + timedelta(seconds=presence.heartbeat_seconds() + 1)
    assert presence.record_heartbeat(point.id, now=later) is False  # written (not a comeback)
    db.session.expire_all()
    assert db.session.get(EventPoint, point.id).last_seen_dt == later.replace(microsecond=later.microsecond)
    page.disconnect()


# --- Zoom presence lands on the right point ---------------------------------------------------------------

NGUYEN_NGHIEM_TP, NGUYEN_NGHIEM_DUC_PHO = "21025", "21439"  # one name, two towns


@pytest.fixture
def zoom_event(app, users):
    from tests.web.test_meeting import SECRET

    app.config["ZOOM_WEBHOOK_SECRET_TOKEN"] = SECRET
    event = make_event(state="live", start_dt=utcnow() - timedelta(minutes=5))
    event.meeting_id = "856 7123 4567"
    db.session.commit()
    return event


def _join(client, name: str, email: str = "", meeting_id=85671234567, uuid: str | None = None):
    from tests.web.test_meeting import post, zoom_body

    body = zoom_body("meeting.participant_joined", name, utcnow().isoformat(), meeting_id=meeting_id)
    body["payload"]["object"]["participant"]["email"] = email
    if uuid:
        body["payload"]["object"]["participant"]["participant_uuid"] = uuid
    return post(client, body)


def test_two_points_with_one_name_are_never_guessed_the_operator_assigns(app, zoom_event, as_user):
    from launch.models import MeetingParticipant

    tp, duc_pho = point_of(zoom_event, NGUYEN_NGHIEM_TP), point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO)
    client = app.test_client()
    # Unit names are never used: the participant waits, no point is marked.
    assert _join(client, "Phường Nguyễn Nghiêm", uuid="duc-pho").json["reason"] == "unmatched_participant"
    # Both points given the same participant name: ambiguous, still neither is marked.
    tp.meeting_name = duc_pho.meeting_name = "Phường Nguyễn Nghiêm"
    db.session.commit()
    answer = _join(client, "Phường Nguyễn Nghiêm", uuid="duc-pho").json
    assert answer["reason"] == "ambiguous_participant" and set(answer["candidates"]) == {tp.id, duc_pho.id}
    db.session.expire_all()
    assert not any(point_of(zoom_event, code).in_call for code in (NGUYEN_NGHIEM_TP, NGUYEN_NGHIEM_DUC_PHO))
    [waiting] = db.session.scalars(select(MeetingParticipant)).all()
    assert waiting.status == "ambiguous" and waiting.in_call

    # Listed on the wall, for the operator.
    operator = as_user("operator")
    assert "Phường Nguyễn Nghiêm" in operator.get(f"/wall/{zoom_event.id}").get_data(as_text=True)
    page = operator.get(f"/wall/{zoom_event.id}/participants").get_data(as_text=True)
    assert "Thị xã Đức Phổ" in page  # the two points are told apart by their district
    assert as_user("viewer").post(f"/wall/{zoom_event.id}/participants/{waiting.id}/assign",
                                  data={"point_id": str(duc_pho.id)}).status_code == 403
    resp = operator.post(f"/wall/{zoom_event.id}/participants/{waiting.id}/assign", data={"point_id": str(duc_pho.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    duc_pho, tp = point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO), point_of(zoom_event, NGUYEN_NGHIEM_TP)
    assert duc_pho.in_call is True and tp.in_call is False
    assert db.session.scalar(select(func.count()).select_from(MeetingParticipant)) == 0
    # The next join of that name is Đức Phổ's, by the operator's word.
    assert _join(client, "Phường Nguyễn Nghiêm", uuid="again").json["point_id"] == duc_pho.id


def test_an_explicit_email_wins_over_a_shared_name(app, zoom_event):
    tp, duc_pho = point_of(zoom_event, NGUYEN_NGHIEM_TP), point_of(zoom_event, NGUYEN_NGHIEM_DUC_PHO)
    tp.meeting_name = duc_pho.meeting_name = "Phường Nguyễn Nghiêm"
    duc_pho.meeting_email = "nguyennghiem.ducpho@quangngai.gov.vn"
    db.session.commit()
    answer = _join(app.test_client(), "Phường Nguyễn Nghiêm", email="NguyenNghiem.DucPho@quangngai.gov.vn").json
    assert answer["point_id"] == duc_pho.id


def test_the_meeting_id_matches_exactly_not_by_its_digits(app, zoom_event):
    zoom_event.meeting_id = "IOC-QNG-2023"
    point_of(zoom_event, BINH_THANH).meeting_name = "UBND xã Bình Thạnh"
    db.session.commit()
    client = app.test_client()
    assert _join(client, "UBND xã Bình Thạnh", meeting_id=2023).json["reason"] == "unknown_meeting"
    zoom_event.meeting_id = "856-7123-4567"
    db.session.commit()
    assert _join(client, "UBND xã Bình Thạnh").json["handled"] is True


# --- 5. hosts see and check in the people of their own units; walk-ins only when the operator allows ------

@pytest.fixture
def launch_day(users, clock):
    """The launch at START with Bình Sơn's points and Quảng Ngãi city; people of Bình Thạnh and of the city."""
    from tests.support.checkin import CODES, START, add_attendee

    event = make_event(start_dt=START, unit_codes=CODES)
    binh_thanh = add_attendee(event, BINH_THANH, name="Trần Thị Bình", position="Chủ tịch UBND xã")
    city = add_attendee(event, TP, name="Lê Văn Thành", position="Phó Chủ tịch UBND thành phố")
    return event, binh_thanh, city


def _scan(client, point_id: int, person_id: int, n: int):
    return client.post(f"/api/v1/points/{point_id}/attendee-checkins",
                       json={"attendee_id": person_id, "client_id": f"scan-{n:04d}-abcdef"})


def test_a_host_sees_only_the_people_of_their_units(app, launch_day, as_user):
    event, binh_thanh, city = launch_day

    def found(client, q: str) -> set[str]:
        return {p["name"] for p in client.get(f"/api/v1/events/{event.id}/attendees?q={q}").json["attendees"]}

    city_host, district = as_user("other_host"), as_user("district_host")
    assert found(city_host, "thanh") == {"Lê Văn Thành"}
    assert found(city_host, "binh") == set()  # not Bình Thạnh's chairwoman, nor her position
    assert found(district, "binh") == {"Trần Thị Bình"}  # Bình Sơn's host: its communes
    assert found(district, "thanh") == set()
    operator = as_user("operator")
    assert found(operator, "binh") | found(operator, "thanh") == {"Trần Thị Bình", "Lê Văn Thành"}


# --- campaign reports land on the unit they are for; a late correction says late ------------------------

@pytest.fixture
def binh_son_campaign(users):
    from launch.services import campaigns as svc
    from launch.services import teams as team_svc
    from tests.services.test_campaigns import BEFORE, TEAMS, campaign_data

    team_svc.import_teams(TEAMS)
    return svc.save_campaign(campaign_data(), actor=users["operator"], now=BEFORE)


@pytest.mark.parametrize("unit", [None, "", "abc", "99999999999999999999"])
def test_a_campaign_report_without_a_valid_unit_is_refused(app, binh_son_campaign, as_user, unit):
    from launch.models.campaigns import ProgressReport
    from tests.services.test_campaigns import L

    campaign = binh_son_campaign
    form = {"period": "0", **{f"m-{m.id}": "5" for m in campaign.metrics}}
    if unit is not None:
        form["unit"] = unit
    with time_machine.travel(L(2023, 8, 5, 12, 0), tick=False):
        resp = as_user("district_host").post(f"/campaigns/{campaign.id}/report", data=form)
    assert resp.status_code == 400
    assert "Chọn đơn vị" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ProgressReport)) == 0
