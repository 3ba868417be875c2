"""Site and attendee check-in through the one service: refusals, idempotence, reports, audit, wall."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Activity, AttendeeCheckin, AuditEntry, EventPoint, PointProblem
from launch.services import checkin, tokens
from launch.services.checkin import CheckinRefused
from launch.services.tokens import TokenError
from tests.support.checkin import CODES, DURING, START, add_attendee, capture_announcements
from tests.support.factories import make_event, point_of


@pytest.fixture
def announced(monkeypatch):
    return capture_announcements(monkeypatch)


@pytest.fixture
def event(users):
    return make_event(start_dt=START, unit_codes=CODES)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def refusals() -> list[str]:
    return [e.details["code"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "checkin.refused").order_by(AuditEntry.id))]


# --- site check-in ------------------------------------------------------------------------------

def test_site_checkin_records_once_announces_and_audits(event, users, clock, announced):
    point = point_of(event, "21046")
    result = checkin.check_in_site(tokens.site_token(point), users["commune_host"])
    assert result.code == "checked_in"
    db.session.expire_all()
    point = db.session.get(EventPoint, point.id)
    assert point.checked_in_dt == DURING
    assert point.checked_in_by_id == users["commune_host"].id
    assert point.checkin_method == "qr"
    assert count(Activity, Activity.kind == "site_checkin", Activity.event_point_id == point.id) == 1
    assert count(AuditEntry, AuditEntry.action == "checkin.site") == 1
    assert announced == [(event.id, "site_checkin", point.id, announced[0][3])]

    # A repeat is harmless and says when and by whom; nothing else is written.
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_site(tokens.site_token(point), users["district_host"])
    assert info.value.code == "already_checked_in"
    assert info.value.details["checked_in_by"] == users["commune_host"].display_name
    assert info.value.details["checked_in_dt"] == "2023-07-28T00:30:00Z"
    assert count(Activity, Activity.kind == "site_checkin") == 1
    assert len(announced) == 1
    assert refusals() == []


def test_district_host_may_check_in_a_commune_but_not_another_district(event, users, clock, announced):
    assert checkin.check_in_site(tokens.site_token(point_of(event, "21043")), users["district_host"]).code == \
        "checked_in"
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_site(tokens.site_token(point_of(event, "522")), users["district_host"])
    assert info.value.code == "not_your_point"
    assert info.value.status == 403
    assert refusals() == ["not_your_point"]
    with pytest.raises(CheckinRefused):
        checkin.check_in_site(tokens.site_token(point_of(event, "524")), users["viewer"])


def _altered(token: str) -> str:
    head, sig = token.rsplit(".", 1)
    return head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]


@pytest.mark.parametrize("how", ["altered_signature", "altered_payload", "forged_key", "garbage", "badge_salt"])
def test_forged_or_altered_tokens_are_refused_audited_and_record_nothing(event, users, clock, announced, app, how):
    point = point_of(event, "21046")
    good = tokens.site_token(point)
    token = {
        "altered_signature": _altered(good),
        "altered_payload": URLSafeSerializer("x").dumps([event.id, point.id + 1, 1]).split(".")[0] + "." +
        good.split(".")[1],
        "forged_key": URLSafeSerializer("not-our-secret", salt=tokens.SITE_SALT).dumps([event.id, point.id, 1]),
        "garbage": "hello",
        "badge_salt": URLSafeSerializer(app.config["SECRET_KEY"], salt=tokens.BADGE_SALT).dumps(
            [event.id, point.id, 1]),
    }[how]
    with pytest.raises(TokenError) as info:
        checkin.check_in_site(token, users["commune_host"])
    assert info.value.code == "invalid_token"
    assert refusals() == ["invalid_token"]
    assert db.session.get(EventPoint, point.id).checked_in_dt is None
    assert count(Activity) == 0
    assert announced == []


def test_refusals_by_time_state_revocation_and_event(event, users, announced):
    point = point_of(event, "21046")
    host = users["commune_host"]
    token = tokens.site_token(point)

    def code_at(when, tok=token, **kw) -> str:
        with time_machine.travel(when, tick=False), pytest.raises(CheckinRefused) as info:
            checkin.check_in_site(tok, host, **kw)
        return info.value.code

    assert code_at(START - timedelta(minutes=61)) == "not_yet_open"
    assert code_at(START + timedelta(hours=2, seconds=1)) == "expired"
    assert code_at(DURING, expected_event_id=event.id + 1) == "wrong_event"

    # Moving the event moves the window: the same token opens later.
    event.start_dt, event.end_dt = START + timedelta(days=1), START + timedelta(days=1, hours=2)
    db.session.commit()
    assert code_at(DURING) == "not_yet_open"
    event.start_dt, event.end_dt = START, START + timedelta(hours=2)
    event.state = "cancelled"
    db.session.commit()
    assert code_at(DURING) == "closed"
    event.state = "scheduled"
    db.session.commit()

    checkin.revoke_point_qr(point, users["operator"])
    assert code_at(DURING) == "revoked"
    # The new code works; the other points' codes were not touched.
    other = point_of(event, "21043")
    assert other.token_version == 1
    with time_machine.travel(DURING, tick=False):
        assert checkin.check_in_site(tokens.site_token(db.session.get(EventPoint, point.id)), host).code == \
            "checked_in"
        assert checkin.check_in_site(tokens.site_token(other), users["district_host"]).code == "checked_in"

    gone = point_of(event, "522")
    token_522 = tokens.site_token(gone)
    db.session.delete(gone)
    db.session.commit()
    assert code_at(DURING, tok=token_522) == "unknown_point"
    assert refusals() == ["not_yet_open", "expired", "wrong_event", "not_yet_open", "closed", "revoked",
                          "unknown_point"]
    assert count(AuditEntry, AuditEntry.action == "checkin.qr_revoked") == 1


def test_event_ended_early_closes_check_in(event, users, announced):
    event.state, event.state_changed_dt = "ended", START + timedelta(minutes=30)
    db.session.commit()
    with time_machine.travel(START + timedelta(minutes=45), tick=False), pytest.raises(CheckinRefused) as info:
        checkin.check_in_site(tokens.site_token(point_of(event, "21046")), users["commune_host"])
    assert info.value.code == "closed"


def test_manual_checkin_needs_an_operator_and_a_reason(event, users, clock, announced):
    point = point_of(event, "522")
    with pytest.raises(CheckinRefused) as info:
        checkin.manual_site_checkin(point, users["operator"], "   ")
    assert info.value.code == "reason_required"
    with pytest.raises(CheckinRefused) as info:
        checkin.manual_site_checkin(point, users["other_host"], "by phone")
    assert info.value.code == "operators_only"
    result = checkin.manual_site_checkin(point, users["operator"], "Confirmed by phone with Mr Lâm")
    assert result.code == "checked_in"
    point = db.session.get(EventPoint, point.id)
    assert (point.checkin_method, point.checkin_reason) == ("manual", "Confirmed by phone with Mr Lâm")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.manual"))
    assert entry.details["reason"] == "Confirmed by phone with Mr Lâm" and entry.user_id == users["operator"].id
    assert announced[-1][1] == "site_checkin"


def test_host_reports_headcount_connection_test_and_problems(event, users, clock, announced):
    point = point_of(event, "21046")
    host = users["commune_host"]
    assert checkin.report_headcount(point, host, "42").data["headcount"] == 42
    assert checkin.report_headcount(point, host, 45).data["headcount"] == 45  # corrected
    for bad in ("-1", "many", "", None):
        with pytest.raises(CheckinRefused) as info:
            checkin.report_headcount(point, host, bad)
        assert info.value.code == "invalid_input"
    checkin.confirm_connection_test(point, host)
    checkin.report_problem(point, host, "no_audio")
    with pytest.raises(CheckinRefused):
        checkin.report_problem(point, host, "other", "  ")
    with pytest.raises(CheckinRefused):
        checkin.report_problem(point, host, "smoke")
    checkin.report_problem(point, host, "other", "Mất điện")
    with pytest.raises(CheckinRefused) as info:
        checkin.report_headcount(point, users["other_host"], 3)
    assert info.value.code == "not_your_point"
    point = db.session.get(EventPoint, point.id)
    assert (point.headcount, point.headcount_dt, point.connection_tested_dt) == (45, DURING, DURING)
    assert [p.kind for p in db.session.scalars(select(PointProblem).order_by(PointProblem.id))] == ["no_audio", "other"]
    assert [k for _e, k, _p, _d in announced] == ["headcount", "headcount", "connection_test", "problem", "problem"]
    assert count(Activity) == 5


# --- attendee check-in --------------------------------------------------------------------------

def test_attendee_counted_once_per_event(event, users, clock, announced):
    person = add_attendee(event, "21046", "Trần Thị Bình")
    here, there = point_of(event, "21046"), point_of(event, "524")
    badge = tokens.badge_token(person)
    first = checkin.check_in_attendee(here, users["commune_host"], client_id="scan-0001", badge=badge)
    assert first.code == "checked_in" and first.data["attendee"]["name"] == "Trần Thị Bình"
    assert announced == [(event.id, "attendee_checkin", here.id, announced[0][3])]

    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_attendee(here, users["commune_host"], client_id="scan-0002", badge=badge)
    assert info.value.code == "already_checked_in"
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_attendee(there, users["district_host"], client_id="scan-0003", attendee_id=person.id,
                                  method="manual")
    assert info.value.code == "checked_in_elsewhere"
    assert info.value.details["point"] == "Xã Bình Thạnh (Huyện Bình Sơn)"
    assert info.value.details["point_id"] == here.id
    assert count(AttendeeCheckin) == 1
    assert count(Activity, Activity.kind == "attendee_checkin") == 1
    assert len(announced) == 1
    assert refusals() == []


def test_a_retried_scan_returns_the_first_answer_and_records_once(event, users, clock, announced):
    person = add_attendee(event, "21046")
    point = point_of(event, "21046")
    kwargs = {"client_id": "5f0e4c1a-9d7b-4e0e-8c55-2a1f00000001", "badge": tokens.badge_token(person),
              "scanned_dt": "2023-07-28T00:20:00Z"}
    first = checkin.check_in_attendee(point, users["commune_host"], **kwargs)
    again = checkin.check_in_attendee(point, users["commune_host"], **kwargs)
    assert again.code == first.code == "checked_in"
    assert {k: v for k, v in again.data.items() if k != "replay"} == \
        {k: v for k, v in first.data.items() if k != "replay"}
    assert (first.data["replay"], again.data["replay"]) == (False, True)
    assert count(AttendeeCheckin) == 1
    # The retry re-announces the point (idempotent: the first announcement may have died with its process).
    assert [a[3].get("replay", False) for a in announced] == [False, True]
    # The same id for another person is not a retry.
    other = add_attendee(event, "21046", "Lê Minh Châu")
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_attendee(point, users["commune_host"], client_id=kwargs["client_id"], attendee_id=other.id)
    assert info.value.code == "client_id_reused"


def test_delayed_scan_keeps_its_real_time_within_the_window(event, users, announced):
    people = [add_attendee(event, "21046", name) for name in ("Võ Văn Hùng", "Bùi Thị Mai", "Hồ Quốc Dũng")]
    point = point_of(event, "21046")
    host = users["commune_host"]
    # Synced after the event ended, scanned during it: accepted with the scan time.
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        result = checkin.check_in_attendee(point, host, client_id="late-sync-01", attendee_id=people[0].id,
                                           scanned_dt="2023-07-28T08:15:00+07:00")
        assert result.data["scanned_dt"] == "2023-07-28T01:15:00Z"
        assert result.data["recorded_dt"] == "2023-07-28T04:00:00Z"
        with pytest.raises(CheckinRefused) as info:
            checkin.check_in_attendee(point, host, client_id="late-sync-02", attendee_id=people[1].id,
                                      scanned_dt="2023-07-28T03:30:00Z")
        assert info.value.code == "expired"
        with pytest.raises(CheckinRefused) as info:
            checkin.check_in_attendee(point, host, client_id="late-sync-03", attendee_id=people[1].id,
                                      scanned_dt="2023-07-27T23:00:00Z")
        assert info.value.code == "not_yet_open"
        with pytest.raises(CheckinRefused) as info:
            checkin.check_in_attendee(point, host, client_id="late-sync-04", attendee_id=people[1].id,
                                      scanned_dt="yesterday")
        assert info.value.code == "invalid_input"
    # A phone clock ahead of ours is taken as now.
    with time_machine.travel(DURING, tick=False):
        result = checkin.check_in_attendee(point, host, client_id="ahead-clock", attendee_id=people[2].id,
                                           scanned_dt="2023-07-28T05:00:00Z")
        assert result.data["scanned_dt"] == "2023-07-28T00:30:00Z"
    assert count(AttendeeCheckin) == 2


def test_badge_refusals(event, users, clock, announced, app):
    person = add_attendee(event, "21046")
    point = point_of(event, "21046")
    host = users["commune_host"]
    other_event = make_event(start_dt=START, unit_codes=["21046"], title="Another")
    stranger = add_attendee(other_event, "21046", "Đặng Văn Tùng")

    def code(**kw) -> str:
        with pytest.raises((CheckinRefused, TokenError)) as info:
            checkin.check_in_attendee(point, host, **kw)
        return info.value.code

    assert code(client_id="b-000001", badge=_altered(tokens.badge_token(person))) == "invalid_token"
    assert code(client_id="b-000002", badge=tokens.badge_token(stranger)) == "wrong_event"
    assert code(client_id="b-000003", attendee_id=stranger.id) == "wrong_event"
    assert code(client_id="b-000004", attendee_id=999999) == "unknown_attendee"
    assert code(client_id="short", attendee_id=person.id) == "invalid_input"
    assert code(client_id="b-000005", badge=tokens.badge_token(person)[:-3]) == "invalid_token"
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_attendee(point_of(event, "522"), host, client_id="b-000006", attendee_id=person.id)
    assert info.value.code == "not_your_point"
    assert refusals() == ["invalid_token", "wrong_event", "wrong_event", "unknown_attendee", "invalid_token",
                          "not_your_point"]
    assert count(AttendeeCheckin) == 0 and announced == []


def test_a_lost_badge_is_replaced_and_the_old_one_refused_by_name(event, users, clock, announced, as_user):
    from launch.models import RevokedBadge
    from launch.services import roster

    person = add_attendee(event, "21046", "Lê Thị Mai")
    point, host = point_of(event, "21046"), users["commune_host"]
    old = tokens.badge_token(person)
    roster.reissue_badge(person, actor=users["operator"])
    new = tokens.badge_token(person)
    assert new != old
    with pytest.raises(CheckinRefused) as info:
        checkin.check_in_attendee(point, host, client_id="lost-000001", badge=old)
    assert info.value.code == "revoked" and "Lê Thị Mai" in info.value.message
    assert count(AttendeeCheckin) == 0 and refusals()[-1] == "revoked"  # audited
    assert checkin.check_in_attendee(point, host, client_id="lost-000002", badge=new).code == "checked_in"
    assert count(RevokedBadge) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge.reissued")).user_id \
        == users["operator"].id

    # from the roster page: one button per person, then that person's badge alone, ready to print
    op = as_user("operator")
    page = op.get(f"/c/events/{event.id}/roster").get_data(as_text=True)
    action = f"/c/events/{event.id}/attendees/{person.id}/reissue-badge"
    assert f'action="{action}"' in page
    resp = op.post(action)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/badges?attendee={person.id}")
    sheet = op.get(resp.headers["Location"]).get_data(as_text=True)
    assert sheet.count('class="badge-card"') == 1 and f'data-attendee="{person.id}"' in sheet
    assert count(RevokedBadge) == 2
    assert op.post(f"/c/events/{event.id}/attendees/999999/reissue-badge").status_code == 404
    assert op.get(f"/c/events/{event.id}/badges?attendee=99999999999999").status_code == 404
