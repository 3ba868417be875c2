"""Follow-up campaigns: creation and validation, periods, targets, reports and corrections, and the whole
scheduled life (open, reminders, escalation, late reports, summaries, close) under a controlled clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from launch.clock import as_utc, to_local, utcnow
from launch.demo import campaigns as demo_campaigns
from launch.extensions import db
from launch.jobs.tasks import run_due_tasks
from launch.models import AuditEntry, Notification, ScheduledTask, Team, Unit
from launch.models.campaigns import Campaign, ProgressReport
from launch.services import campaigns as svc
from launch.services import teams as team_svc
from launch.services.errors import DomainError, Forbidden, ValidationFailed
from tests.support.factories import make_event


def L(*args: int) -> datetime:  # noqa: N802
    """A local (Asia/Ho_Chi_Minh) wall-clock time as aware UTC."""
    return as_utc(datetime(*args))


BEFORE = L(2023, 8, 1, 9, 0)
TEAMS = (
    "unit_code,level,name,members\n"
    "524,district,Tổ CNSCĐ Huyện Bình Sơn,10\n"
    "21046,commune,Tổ CNSCĐ Xã Bình Thạnh,6\n"
    "21046,village,Tổ thôn 1,5\n"
    "21043,commune,Tổ CNSCĐ Xã Bình Thuận,4\n"
)


def uid(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


def campaign_data(**overrides) -> dict:
    """Bình Sơn's 22 communes, daily 5-7 Aug 2023, cut-off 17:00, escalation after 2 h; 7 residents per member."""
    data = {
        "name": "7 người dân trong 7 ngày – Bình Sơn",
        "date_mode": "dates",
        "start": "2023-08-05T00:00",
        "end": "2023-08-08T00:00",
        "rhythm": "daily",
        "cutoff": "17:00",
        "escalation_minutes": "120",
        "reporting_level": "commune",
        "district_ids": [str(uid("524"))],
        "metrics": [
            {"label": "Residents guided", "key": "residents_guided", "target_rule": "per_member", "target_value": "7"},
            {"label": "Cashless payment accounts opened", "target_rule": "fixed", "target_value": "20"},
            {"label": "", "target_rule": "none", "target_value": ""},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def teams(directory):
    team_svc.import_teams(TEAMS)


@pytest.fixture
def campaign(users, teams):
    return svc.save_campaign(campaign_data(), actor=users["operator"], now=BEFORE)


def values(c: Campaign, residents: int, cashless: int = 0) -> dict:
    return {c.metrics[0].id: residents, c.metrics[1].id: cashless}


def notices(user, kind: str | None = None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user.id, Notification.channel_kind == "inapp")
    if kind:
        stmt = stmt.join(ScheduledTask, ScheduledTask.id == Notification.task_id).where(ScheduledTask.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


# ------------------------------------------------------------------ creation


def test_created_campaign_has_periods_units_targets_and_tasks(campaign):
    assert campaign.state == "scheduled"
    assert len(campaign.units) == 22
    periods = svc.periods(campaign)
    assert [p.label for p in periods] == ["05/08/2023", "06/08/2023", "07/08/2023"]
    assert periods[0].deadline == L(2023, 8, 5, 17, 0)
    assert periods[-1].end == L(2023, 8, 8, 0, 0)
    t = svc.targets(campaign)
    residents, cashless = campaign.metrics[0].id, campaign.metrics[1].id
    assert t[(uid("21046"), residents)] == 11 * 7  # commune team 6 + village team 5, x 7
    assert t[(uid("21043"), residents)] == 4 * 7
    assert t[(uid("21040"), residents)] == 0  # no team yet
    assert t[(uid("21046"), cashless)] == 20
    kinds = sorted(db.session.scalars(select(ScheduledTask.kind).where(ScheduledTask.campaign_id == campaign.id)))
    assert kinds == sorted(["campaign.open", "campaign.close"] + ["campaign.remind"] * 3 + ["campaign.escalate"] * 3
                           + ["campaign.remind_before"] * 3
                           + ["campaign.summary"] * 2)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.created")).user_id is not None


def test_seven_in_seven_template_anchors_to_the_launch(users, teams):
    event = make_event(start_dt=L(2023, 7, 28, 14, 0))
    data = svc.template_defaults("seven_in_seven")
    assert data["anchor_event_id"] == event.id and data["anchor_days"] == 7
    c = svc.save_campaign(data, actor=users["operator"], now=L(2023, 7, 28, 9, 0))
    assert (c.start_dt, c.end_dt) == (event.start_dt, L(2023, 8, 4, 0, 0))
    assert len(svc.periods(c)) == 7 and len(c.units) == 173
    assert c.metrics[0].key == "residents_guided" and c.metrics[0].target_rule == "per_member"
    assert svc.targets(c)[(uid("21046"), c.metrics[0].id)] == 77


def test_peak_plan_template_is_mo_duc_weekly(users, teams):
    now = L(2023, 8, 5, 7, 0)
    c = svc.save_campaign(svc.template_defaults("peak_30_days", now), actor=users["operator"], now=now)
    assert {cu.unit.parent.code for cu in c.units} == {"533"} and len(c.units) == 13
    periods = svc.periods(c)
    assert periods[0].label == "05/08–11/08/2023" and periods[-1].last_day.isoformat() == "2023-09-05"
    assert c.metrics[0].key == "online_applications" and c.metrics[0].target_value == 300


def test_peak_plan_template_starts_at_the_launch_or_today_never_in_the_past(users, teams):
    """Left unchanged, the template makes a campaign that is not over: 32 days from the launch's date,
    or from today once the launch is past (it pre-filled 05/08-06/09/2023 whatever the year)."""
    data = svc.template_defaults("peak_30_days", L(2026, 11, 29, 15, 0))
    assert (data["start"], data["end"]) == (datetime(2026, 11, 29), datetime(2026, 12, 31))
    make_event(start_dt=L(2026, 12, 3, 8, 0))
    data = svc.template_defaults("peak_30_days", L(2026, 11, 29, 15, 0))
    assert (data["start"], data["end"]) == (datetime(2026, 12, 3), datetime(2027, 1, 4))
    data = svc.template_defaults("peak_30_days", L(2027, 2, 1, 9, 0))  # the launch is past: from today
    assert data["start"] == datetime(2027, 2, 1)
    c = svc.save_campaign(data, actor=users["operator"], now=L(2027, 2, 1, 9, 0))
    assert c.state != "closed"


def test_a_campaign_already_over_asks_first(users, teams):
    now = L(2026, 11, 29, 15, 0)
    data = {**svc.template_defaults("peak_30_days", now), "start": "2023-08-05T00:00", "end": "2023-09-06T00:00"}
    with pytest.raises(ValidationFailed) as refused:
        svc.save_campaign(data, actor=users["operator"], now=now)
    assert refused.value.code == "campaign_over" and "06/09/2023 00:00" in str(refused.value.message)
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0  # nothing saved
    c = svc.save_campaign(data, actor=users["operator"], now=now, confirm_over=True)
    assert c.state == "closed"
    # Saving it again (a typo in its name) does not ask again: it was over already.
    svc.save_campaign({**svc.campaign_form_data(c), "name": "Kế hoạch 2023"}, campaign=c, now=now)
    assert c.name == "Kế hoạch 2023"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"end": "2023-08-04T00:00"}, "end_before_start"),
        ({"end": "2023-08-05T00:00"}, "end_before_start"),
        ({"start": "not a date"}, "bad_start"),
        ({"metrics": [{"label": "Residents", "target_rule": "per_member", "target_value": "0"}]}, "bad_target"),
        ({"metrics": [{"label": "Residents", "target_rule": "fixed", "target_value": "-5"}]}, "bad_target"),
        ({"metrics": [{"label": "Residents", "target_rule": "sometimes", "target_value": "5"}]}, "bad_rule"),
        ({"metrics": [{"label": "", "target_rule": "none", "target_value": ""}]}, "no_metrics"),
        ({"metrics": [{"label": "A", "target_rule": "none"}, {"label": "a", "target_rule": "none"}]},
         "duplicate_metric"),
        ({"cutoff": "25:00"}, "bad_cutoff"),
        ({"rhythm": "hourly"}, "bad_rhythm"),
        ({"escalation_minutes": "-1"}, "bad_escalation"),
        ({"reporting_level": "village"}, "bad_level"),
        ({"district_ids": ["999999"]}, "bad_district"),
        ({"name": "  "}, "name_required"),
        ({"date_mode": "anchor", "anchor_event_id": "", "anchor_days": "7"}, "unknown_event"),
    ],
)
def test_nonsense_is_refused_and_nothing_saved(users, teams, overrides, code):
    with pytest.raises(ValidationFailed) as info:
        svc.save_campaign(campaign_data(**overrides), actor=users["operator"], now=BEFORE)
    assert code in [e.code for e in info.value.errors]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask)) == 0


def test_periods_lock_once_reports_are_in(campaign, users):
    svc.submit_report(campaign, uid("21046"), 0, values(campaign, 10), user=users["commune_host"],
                      now=L(2023, 8, 5, 10, 0))
    with pytest.raises(ValidationFailed) as info:
        svc.save_campaign(campaign_data(end="2023-08-09T00:00"), campaign=campaign, now=L(2023, 8, 5, 11, 0))
    assert [e.code for e in info.value.errors] == ["periods_locked"]
    db.session.rollback()
    # The name and the targets may still change.
    data = campaign_data(name="Đổi tên")
    data["metrics"][0]["target_value"] = "8"
    svc.save_campaign(data, campaign=campaign, now=L(2023, 8, 5, 11, 0))
    assert campaign.name == "Đổi tên" and svc.targets(campaign)[(uid("21046"), campaign.metrics[0].id)] == 88


# ------------------------------------------------------------------ reports


def test_report_refusals_save_nothing(campaign, users):
    now = L(2023, 8, 5, 12, 0)
    chost = users["commune_host"]
    cases = [
        (dict(unit=uid("21046"), period=0, vals=values(campaign, -1), user=chost), "invalid_report"),
        (dict(unit=uid("21046"), period=7, vals=values(campaign, 1), user=chost), "period_outside"),
        (dict(unit=uid("21046"), period=-1, vals=values(campaign, 1), user=chost), "period_outside"),
        (dict(unit=uid("21046"), period=1, vals=values(campaign, 1), user=chost), "period_not_started"),
        (dict(unit=uid("21043"), period=0, vals=values(campaign, 1), user=chost), "out_of_scope"),
        (dict(unit=uid("21046"), period=0, vals=values(campaign, 1), user=users["other_host"]), "out_of_scope"),
        (dict(unit=uid("21046"), period=0, vals=values(campaign, 1), user=users["viewer"]), "read_only"),
        (dict(unit=uid("21010"), period=0, vals=values(campaign, 1), user=users["operator"]), "not_reporting_unit"),
        (dict(unit=uid("21046"), period=0, vals={campaign.metrics[0].id: 3}, user=chost), "invalid_report"),
        (dict(unit=uid("21046"), period=0, vals=values(campaign, "ba"), user=chost), "invalid_report"),
    ]
    for case, code in cases:
        with pytest.raises(DomainError) as info:
            svc.submit_report(campaign, case["unit"], case["period"], case["vals"], user=case["user"], now=now)
        assert info.value.code == code, case
        if code in ("out_of_scope", "read_only"):
            assert isinstance(info.value, Forbidden)
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ProgressReport)) == 0


def test_corrections_keep_history_and_change_totals_everywhere(campaign, users):
    chost = users["commune_host"]
    first = svc.submit_report(campaign, uid("21046"), 0, values(campaign, 30, 2), user=chost,
                              now=L(2023, 8, 5, 16, 0))
    assert (first.version, first.is_late) == (1, False)
    data = svc.progress(campaign, now=L(2023, 8, 5, 16, 30))
    row = next(r for r in data["units"] if r.unit.code == "21046")
    assert row.values[campaign.metrics[0].id] == 30 and row.pct == pytest.approx(39.0)

    second = svc.submit_report(campaign, uid("21046"), 0, values(campaign, 45, 2), user=chost,
                               note="Bổ sung", now=L(2023, 8, 5, 18, 0))
    assert second.version == 2
    history = svc.report_history(campaign, uid("21046"), 0)
    assert [(r.version, r.superseded_dt is not None) for r in history] == [(2, False), (1, True)]
    data = svc.progress(campaign, now=L(2023, 8, 5, 18, 30))
    row = next(r for r in data["units"] if r.unit.code == "21046")
    assert row.values[campaign.metrics[0].id] == 45  # the correction replaced, not added
    assert second.is_late is True
    # Corrected after the cut-off: the period is "late", as the host was told ("recorded as late").
    assert row.statuses[0] == "late"
    assert data["totals"]["values"][campaign.metrics[0].id] == 45
    assert data["groups"][0].values[campaign.metrics[0].id] == 45
    headings, rows = svc.export_rows(campaign, "results", now=L(2023, 8, 5, 18, 30))
    assert next(r for r in rows if r[1] == "21046")[4] == 45

    # Sending the same numbers again (a double submit) is no new version.
    same = svc.submit_report(campaign, uid("21046"), 0, values(campaign, 45, 2), user=chost, note="Bổ sung",
                             now=L(2023, 8, 5, 18, 1))
    assert same.id == second.id
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "campaign.report_corrected")) == 1


def test_team_changes_move_targets_at_once(campaign):
    team = db.session.scalar(select(Team).where(Team.name == "Tổ thôn 1"))
    team_svc.save_team({"unit_id": team.unit_id, "level": "village", "name": team.name, "members": 15}, team=team)
    assert svc.targets(campaign)[(uid("21046"), campaign.metrics[0].id)] == 21 * 7


def test_target_overrides(campaign, users):
    residents = campaign.metrics[0].id
    changed = svc.set_target_overrides(campaign, {(uid("21040"), residents): "50"}, actor=users["operator"])
    assert changed == 1 and svc.targets(campaign)[(uid("21040"), residents)] == 50
    with pytest.raises(ValidationFailed):
        svc.set_target_overrides(campaign, {(uid("21040"), residents): "-4", (uid("21043"), residents): "9"})
    db.session.rollback()
    assert svc.targets(campaign)[(uid("21043"), residents)] == 28  # refused whole
    with pytest.raises(ValidationFailed):
        svc.set_target_overrides(campaign, {(uid("21010"), residents): "5"})  # not in the campaign
    db.session.rollback()
    svc.set_target_overrides(campaign, {(uid("21040"), residents): ""})
    assert svc.targets(campaign)[(uid("21040"), residents)] == 0


# ------------------------------------------------------------------ the whole life, controlled clock


def test_hosts_are_reminded_before_the_cut_off_while_there_is_time(campaign, users, make_user):
    """Two hours (CAMPAIGN_REMIND_BEFORE_MINUTES) before each cut-off, the hosts of the units that have
    not reported yet are told when it is due; those who reported are not."""
    chost, thuan_host = users["commune_host"], make_user("host", units=["21043"], username="thuanhost")
    due = sorted(db.session.scalars(select(ScheduledTask.due_dt).where(
        ScheduledTask.campaign_id == campaign.id, ScheduledTask.kind == "campaign.remind_before")))
    assert due == [L(2023, 8, d, 15, 0) for d in (5, 6, 7)]
    run_due_tasks(L(2023, 8, 5, 0, 0))
    svc.submit_report(campaign, uid("21046"), 0, values(campaign, 40), user=chost, now=L(2023, 8, 5, 14, 0))
    run_due_tasks(L(2023, 8, 5, 15, 0))
    assert notices(chost, "campaign.remind_before") == []
    [before] = notices(thuan_host, "campaign.remind_before")
    assert "Xã Bình Thuận" in before.body and "05/08/2023 17:00" in before.body
    assert notices(thuan_host, "campaign.remind") == []  # the cut-off's own reminder comes at 17:00


@pytest.mark.parametrize(("minutes", "due"), [(0, []), (60, [16, 16, 16])])
def test_the_reminder_before_the_cut_off_is_configurable(app, users, teams, minutes, due):
    app.config["CAMPAIGN_REMIND_BEFORE_MINUTES"] = minutes
    c = svc.save_campaign(campaign_data(), actor=users["operator"], now=BEFORE)
    times = sorted(db.session.scalars(select(ScheduledTask.due_dt).where(
        ScheduledTask.campaign_id == c.id, ScheduledTask.kind == "campaign.remind_before")))
    assert [to_local(t).hour for t in times] == due


def test_whole_life_of_a_campaign(campaign, users, make_user):
    op, dhost, chost = users["operator"], users["district_host"], users["commune_host"]
    thuan_host = make_user("host", units=["21043"], username="thuanhost")
    residents = campaign.metrics[0].id

    # Nothing before the start; at the start the scheduler opens it and tells the hosts.
    assert run_due_tasks(L(2023, 8, 4, 23, 59)) == 0
    run_due_tasks(L(2023, 8, 5, 0, 0))
    db.session.refresh(campaign)
    assert campaign.state == "open"
    assert len(notices(chost, "campaign.open")) == 1 and len(notices(thuan_host, "campaign.open")) == 1
    assert len(notices(dhost, "campaign.open")) == 1  # for the communes without a host of their own

    # Bình Thạnh reports on time; nobody else does.
    svc.submit_report(campaign, uid("21046"), 0, values(campaign, 40, 3), user=chost, now=L(2023, 8, 5, 15, 0))

    # At the cut-off: reminders to the hosts of units that have not reported.
    run_due_tasks(L(2023, 8, 5, 17, 0))
    assert notices(chost, "campaign.remind") == []
    thuan = notices(thuan_host, "campaign.remind")
    assert len(thuan) == 1 and "Xã Bình Thuận" in thuan[0].body
    district_reminder = notices(dhost, "campaign.remind")
    assert len(district_reminder) == 1 and "Thị trấn Châu Ổ" in district_reminder[0].body
    assert "Xã Bình Thuận" not in district_reminder[0].body  # has its own host
    remind = db.session.scalar(select(ScheduledTask).where(ScheduledTask.kind == "campaign.remind",
                                                          ScheduledTask.status == "done"))
    assert len(remind.payload["missing"]) == 21

    # Bình Thuận reports late (after the cut-off): accepted and marked late.
    late = svc.submit_report(campaign, uid("21043"), 0, values(campaign, 10), user=thuan_host,
                             now=L(2023, 8, 5, 18, 30))
    assert late.is_late

    # Two hours after the cut-off: the 20 still missing escalate to the district host.
    run_due_tasks(L(2023, 8, 5, 19, 0))
    escalation = notices(dhost, "campaign.escalate")
    assert len(escalation) == 1 and "20" in escalation[0].subject
    assert "Xã Bình Thuận" not in escalation[0].body and "Xã Bình Thạnh" not in escalation[0].body
    assert notices(thuan_host, "campaign.escalate") == []

    # At the period's end: a summary to operators.
    run_due_tasks(L(2023, 8, 6, 0, 0))
    summary = notices(op, "campaign.summary")
    assert len(summary) == 1 and "2" in summary[0].body and "05/08/2023" in summary[0].subject

    data = svc.progress(campaign, now=L(2023, 8, 6, 1, 0))
    first = data["completeness"][0]
    assert (first["on_time"], first["late"], first["missing"]) == (1, 1, 20)
    assert data["totals"]["values"][residents] == 50

    # The district host reports for a commune of the district; a correction later.
    svc.submit_report(campaign, uid("21040"), 1, values(campaign, 12), user=dhost, now=L(2023, 8, 6, 9, 0))
    svc.submit_report(campaign, uid("21046"), 1, values(campaign, 20), user=chost, now=L(2023, 8, 6, 10, 0))
    svc.submit_report(campaign, uid("21046"), 1, values(campaign, 25), user=chost, now=L(2023, 8, 6, 11, 0))

    # Reminders found too late (scheduler down for a day) are recorded as missed, not sent.
    run_due_tasks(L(2023, 8, 7, 12, 0))
    day2 = db.session.scalars(select(ScheduledTask).where(
        ScheduledTask.kind.in_(("campaign.remind", "campaign.escalate")), ScheduledTask.due_dt < L(2023, 8, 7, 0, 0),
        ScheduledTask.due_dt > L(2023, 8, 6, 0, 0))).all()
    assert {t.status for t in day2} == {"missed"}

    # At the end the campaign closes and operators get the final summary.
    run_due_tasks(L(2023, 8, 8, 0, 0))
    db.session.refresh(campaign)
    assert campaign.state == "closed"
    final = notices(op, "campaign.close")
    assert len(final) == 1 and "87" in final[0].body  # 40 + 10 + 12 + 25 residents
    assert db.session.scalar(select(func.count()).select_from(ScheduledTask).where(
        ScheduledTask.campaign_id == campaign.id, ScheduledTask.status == "pending")) == 0

    # A report after the close is still accepted, marked late, and counts.
    svc.submit_report(campaign, uid("21049"), 2, values(campaign, 5), user=dhost, now=L(2023, 8, 8, 8, 0))
    data = svc.progress(campaign, now=L(2023, 8, 8, 9, 0))
    assert data["totals"]["values"][residents] == 92
    assert data["units"][0].statuses == {0: "missing", 1: "on_time", 2: "missing"}  # Châu Ổ
    assert next(r for r in data["units"] if r.unit.code == "21049").statuses[2] == "late"
    assert {"opened", "closed"} <= {a.split(".")[1] for a in db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("campaign.%")))}


def test_cancelled_campaign_sends_nothing_and_takes_no_reports(campaign, users):
    svc.cancel_campaign(campaign, actor=users["operator"], now=BEFORE)
    assert run_due_tasks(L(2023, 8, 9, 0, 0)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    with pytest.raises(DomainError) as info:
        svc.submit_report(campaign, uid("21046"), 0, values(campaign, 1), user=users["commune_host"],
                          now=L(2023, 8, 5, 9, 0))
    assert info.value.code == "campaign_cancelled"


def test_campaign_made_late_schedules_no_backlog(users, teams):
    c = svc.save_campaign(campaign_data(), actor=users["operator"], now=L(2023, 8, 6, 12, 0))
    assert c.state == "open"
    due = sorted((t.kind, t.due_dt) for t in db.session.scalars(select(ScheduledTask)))
    assert all(d > L(2023, 8, 6, 12, 0) for _k, d in due)
    assert ("campaign.open", c.start_dt) not in due


def test_demo_seed_is_idempotent_and_shows_progress(users):
    event = make_event(start_dt=utcnow() - timedelta(days=2))
    demo_campaigns.seed_demo(users["operator"])
    counts = (db.session.scalar(select(func.count()).select_from(Campaign)),
              db.session.scalar(select(func.count()).select_from(Team)),
              db.session.scalar(select(func.count()).select_from(ProgressReport)))
    demo_campaigns.seed_demo(users["operator"])
    assert counts == (db.session.scalar(select(func.count()).select_from(Campaign)),
                      db.session.scalar(select(func.count()).select_from(Team)),
                      db.session.scalar(select(func.count()).select_from(ProgressReport)))
    seven = db.session.scalar(select(Campaign).where(Campaign.template == "seven_in_seven"))
    peak = db.session.scalar(select(Campaign).where(Campaign.template == "peak_30_days"))
    assert seven.anchor_event_id == event.id and seven.start_dt == event.start_dt
    assert peak.state == "open" and "2023" in peak.description
    for c in (seven, peak):
        data = svc.progress(c)
        assert data["totals"]["values"][data["primary"].id] > 0
        assert data["completeness"] and data["top"]


def test_a_campaign_counted_from_the_launch_moves_when_the_launch_moves(users, teams):
    from launch.services import events as event_svc

    event = make_event(start_dt=L(2023, 7, 28, 14, 0))
    before = L(2023, 7, 27, 9, 0)
    seven = svc.save_campaign(svc.template_defaults("seven_in_seven"), actor=users["operator"], now=before)
    fixed = svc.save_campaign(campaign_data(), actor=users["operator"], now=before)  # its own dates
    fixed_dates = (fixed.start_dt, fixed.end_dt)
    assert seven.state == "scheduled"

    event_svc.update_event(event, {"start": "2023-07-29T08:00", "end": "2023-07-29T10:00"},
                           actor=users["operator"], now=before)
    db.session.expire_all()
    seven = db.session.get(Campaign, seven.id)
    assert (seven.start_dt, seven.end_dt) == (L(2023, 7, 29, 8, 0), L(2023, 8, 5, 0, 0))
    assert len(svc.periods(seven)) == 7
    pending = db.session.scalars(select(ScheduledTask).where(ScheduledTask.campaign_id == seven.id,
                                                             ScheduledTask.status == "pending")).all()
    assert next(t for t in pending if t.kind == "campaign.open").due_dt == L(2023, 7, 29, 8, 0)
    assert next(t for t in pending if t.kind == "campaign.close").due_dt == L(2023, 8, 5, 0, 0)
    assert (db.session.get(Campaign, fixed.id).start_dt, db.session.get(Campaign, fixed.id).end_dt) == fixed_dates
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.moved")) is not None

    # once open (reports are in against its periods) it keeps its dates
    run_due_tasks(L(2023, 7, 29, 8, 1))
    db.session.expire_all()
    assert db.session.get(Campaign, seven.id).state == "open"
    event = db.session.get(type(event), event.id)
    event.state = "scheduled"  # (the event's own tasks may have moved it on; put it back to edit it)
    db.session.commit()
    event_svc.update_event(event, {"start": "2023-07-30T08:00", "end": "2023-07-30T10:00"},
                           actor=users["operator"], now=L(2023, 7, 29, 8, 2))
    db.session.expire_all()
    assert db.session.get(Campaign, seven.id).start_dt == L(2023, 7, 29, 8, 0)
