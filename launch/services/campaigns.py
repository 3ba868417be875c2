"""Follow-up campaigns: creation (from a template or from scratch), periods, targets, progress
reports with corrections, the dashboard's figures, exports, and the scheduled life of a campaign.

Targets and progress are always computed from the stored rules, teams and reports; nothing derived
is stored, so a correction changes every total at once.
"""
from __future__ import annotations

import csv
import io
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from launch.clock import LOCAL_TZ, parse_local_dt, to_local, utcnow
from launch.extensions import db
from launch.models import Event, ScheduledTask, Unit, User
from launch.models.campaigns import (
    REPORTING_LEVELS,
    RHYTHMS,
    TARGET_RULES,
    Campaign,
    CampaignMetric,
    CampaignUnit,
    ProgressReport,
    ProgressValue,
    TargetOverride,
)
from launch.services import audit, exports
from launch.services.access import can_act_for, can_read_all, scoped_unit_ids
from launch.services.errors import DomainError, Forbidden, NotFound, ValidationFailed
from launch.services.notifications import send_notice
from launch.services.scheduling import schedule_task, task_handler
from launch.services.teams import members_rolled_up
from launch.services.text import fold, small_int

MAX_PERIODS = 400
MAX_VALUE = 1_000_000
MAX_METRICS = 6
STATE_LABELS = {
    "scheduled": _l("Scheduled"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
RHYTHM_LABELS = {"daily": _l("Daily"), "weekly": _l("Weekly")}
LEVEL_LABELS = {"commune": _l("Communes"), "district": _l("Districts")}
RULE_LABELS = {"none": _l("No target"), "fixed": _l("Fixed number per unit"),
               "per_member": _l("Team members x N")}
STATUS_LABELS = {
    "on_time": _l("Reported on time"),
    "late": _l("Reported late"),
    "missing": _l("Not reported"),
    "open": _l("Not yet due"),
    "upcoming": _l("Not started"),
}

#: The follow-up campaigns the article names. Labels are translated when the form is filled in.
TEMPLATES: dict[str, dict[str, Any]] = {
    "seven_in_seven": {
        "title": _l("7 residents in 7 days"),
        "description": _l("Within 7 days of the launch, every member of each community digital-technology "
                          "team guides at least 7 residents in using digital platforms (online public "
                          "services, cashless payments)."),
        "date_mode": "anchor",
        "anchor_days": 7,
        "rhythm": "daily",
        "cutoff": "17:00",
        "escalation_minutes": 120,
        "reporting_level": "commune",
        "district_codes": [],
        "metrics": [
            {"key": "residents_guided", "label": _l("Residents guided"), "target_rule": "per_member",
             "target_value": 7},
            {"key": "online_applications", "label": _l("Online public service applications submitted"),
             "target_rule": "none", "target_value": None},
            {"key": "cashless_accounts", "label": _l("Cashless payment accounts opened"),
             "target_rule": "none", "target_value": None},
        ],
    },
    "peak_30_days": {
        "title": _l("30-day peak plan (Mộ Đức)"),
        "description": _l("Mộ Đức's 30-day peak plan, 5 August - 5 September 2023: push online public "
                          "service applications in every commune."),
        "date_mode": "dates",
        "start": datetime(2023, 8, 5, 0, 0),
        "end": datetime(2023, 9, 6, 0, 0),
        "rhythm": "weekly",
        "cutoff": "16:00",
        "escalation_minutes": 240,
        "reporting_level": "commune",
        "district_codes": ["533"],
        "metrics": [
            {"key": "online_applications", "label": _l("Online public service applications submitted"),
             "target_rule": "fixed", "target_value": 300},
            {"key": "residents_guided", "label": _l("Residents guided"), "target_rule": "none",
             "target_value": None},
        ],
    },
}


# --------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """One reporting period: [start, end), reports due by `deadline` (all UTC)."""

    index: int
    start: datetime
    end: datetime
    deadline: datetime
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.strftime("%d/%m/%Y")
        return f"{self.first_day.strftime('%d/%m')}–{self.last_day.strftime('%d/%m/%Y')}"

    @property
    def short_label(self) -> str:
        return self.first_day.strftime("%d/%m") if self.first_day == self.last_day else self.label


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def compute_periods(start: datetime, end: datetime, rhythm: str, cutoff_minutes: int) -> list[Period]:
    """Calendar days (daily) or 7-day blocks from the start's local date (weekly), clipped to the
    campaign; each is due on its last local day at the cut-off (or at its end, if the cut-off falls
    before a partial first day starts)."""
    step = 7 if rhythm == "weekly" else 1
    out: list[Period] = []
    day = to_local(start).date()
    while len(out) <= MAX_PERIODS:
        p_start = max(start, _local_midnight(day))
        if p_start >= end:
            break
        p_end = min(end, _local_midnight(day + timedelta(days=step)))
        last_day = to_local(p_end - timedelta(microseconds=1)).date()
        deadline = _local_midnight(last_day) + timedelta(minutes=cutoff_minutes)
        if deadline <= p_start or deadline > p_end:
            deadline = p_end
        out.append(Period(len(out), p_start, p_end, deadline, to_local(p_start).date(), last_day))
        day += timedelta(days=step)
    return out


def periods(campaign: Campaign) -> list[Period]:
    """The campaign's reporting periods."""
    if campaign.start_dt is None or campaign.end_dt is None:
        return []
    return compute_periods(campaign.start_dt, campaign.end_dt, campaign.rhythm, campaign.cutoff_minutes)


def current_period(campaign: Campaign, now: datetime | None = None) -> Period | None:
    """The period running at `now` (the last started one once the campaign is over), or None before."""
    now = now or utcnow()
    started = [p for p in periods(campaign) if p.start <= now]
    return started[-1] if started else None


def cutoff_text(campaign: Campaign) -> str:
    return f"{campaign.cutoff_minutes // 60:02d}:{campaign.cutoff_minutes % 60:02d}"


def last_day(campaign: Campaign) -> date | None:
    """The campaign's last local day (its end is exclusive)."""
    return to_local(campaign.end_dt - timedelta(microseconds=1)).date() if campaign.end_dt else None


# --------------------------------------------------------------------------------------------
# Creating and changing campaigns


@dataclass
class FieldError:
    """One problem with the campaign form: `field` names the input, `code` is for machines."""

    field: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return self.message


def _parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return small_int(value)


def _parse_cutoff(value: Any) -> int | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value or "").strip())
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    return hours * 60 + minutes if hours < 24 and minutes < 60 else None


def metric_key(label: str) -> str:
    """A machine name from a label ("Người dân được hướng dẫn" -> "nguoi_dan_duoc_huong_dan")."""
    return re.sub(r"[^a-z0-9]+", "_", fold(label)).strip("_")[:60] or "metric"


def template_defaults(key: str, now: datetime | None = None) -> dict[str, Any]:
    """The creation form's values for a template, translated into the current language."""
    spec = TEMPLATES.get(key)
    if spec is None:
        raise NotFound("unknown_template", _("This campaign template does not exist."))
    data: dict[str, Any] = {
        "template": key, "name": str(spec["title"]), "description": str(spec["description"]),
        "date_mode": spec["date_mode"], "rhythm": spec["rhythm"], "cutoff": spec["cutoff"],
        "escalation_minutes": spec["escalation_minutes"], "reporting_level": spec["reporting_level"],
        "district_ids": [u.id for u in db.session.scalars(select(Unit).where(Unit.code.in_(spec["district_codes"])))],
        "metrics": [{"key": m["key"], "label": str(m["label"]), "target_rule": m["target_rule"],
                     "target_value": m["target_value"]} for m in spec["metrics"]],
    }
    if spec["date_mode"] == "anchor":
        data["anchor_days"] = spec["anchor_days"]
        event = launch_event()
        data["anchor_event_id"] = event.id if event else None
    else:
        data["start"], data["end"] = spec["start"], spec["end"]
    return data


def launch_event() -> Event | None:
    """The launch event campaigns anchor to by default: the first event by start."""
    return db.session.scalar(select(Event).where(Event.state != "cancelled").order_by(Event.start_dt).limit(1))


def validate_campaign(data: dict[str, Any], *, campaign: Campaign | None = None) -> dict[str, Any]:
    """Check a campaign's settings; return clean values or raise ValidationFailed listing every problem."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {"template": data.get("template") if data.get("template") in TEMPLATES else None}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors.append(FieldError("name", _("The name is required."), "name_required"))
    elif len(name) > 300:
        errors.append(FieldError("name", _("The name is longer than 300 characters."), "too_long"))
    clean["name"] = name
    clean["description"] = (str(data.get("description") or "").strip() or None)
    if clean["description"] and len(clean["description"]) > 5000:
        errors.append(FieldError("description", _("The description is longer than 5000 characters."), "too_long"))

    # Dates: explicit, or N days from an event's start (whole local days from the launch's date).
    clean["anchor_event_id"] = clean["anchor_days"] = None
    start = end = None
    if data.get("date_mode") == "anchor":
        event_id = _parse_int(data.get("anchor_event_id"))
        event = db.session.get(Event, event_id) if event_id else None
        days = _parse_int(data.get("anchor_days"))
        if event is None:
            errors.append(FieldError("anchor_event_id", _("Choose the launch event the campaign counts from."),
                                     "unknown_event"))
        if days is None or not 1 <= days <= 366:
            errors.append(FieldError("anchor_days", _("The number of days must be from 1 to 366."), "bad_days"))
        if event is not None and days is not None and 1 <= days <= 366:
            start = event.start_dt
            end = _local_midnight(to_local(event.start_dt).date() + timedelta(days=days))
            clean["anchor_event_id"], clean["anchor_days"] = event.id, days
    else:
        start, end = parse_local_dt(data.get("start")), parse_local_dt(data.get("end"))
        if start is None:
            errors.append(FieldError("start", _("Give the start date and time."), "bad_start"))
        if end is None:
            errors.append(FieldError("end", _("Give the end date and time."), "bad_end"))
    if start is not None and end is not None:
        if end <= start:
            errors.append(FieldError("end", _("The campaign must end after it starts."), "end_before_start"))
        elif end - start > timedelta(days=366):
            errors.append(FieldError("end", _("A campaign lasts at most 366 days."), "too_long"))
    clean["start_dt"], clean["end_dt"] = start, end

    rhythm = data.get("rhythm")
    if rhythm not in RHYTHMS:
        errors.append(FieldError("rhythm", _("Choose daily or weekly reporting."), "bad_rhythm"))
    clean["rhythm"] = rhythm
    cutoff = _parse_cutoff(data.get("cutoff"))
    if cutoff is None:
        errors.append(FieldError("cutoff", _("The cut-off must be a time of day such as 17:00."), "bad_cutoff"))
    clean["cutoff_minutes"] = cutoff
    escalation = _parse_int(data.get("escalation_minutes"))
    if escalation is None or not 0 <= escalation <= 7 * 24 * 60:
        errors.append(FieldError("escalation_minutes",
                                 _("The escalation delay must be from 0 to 10080 minutes (0: no escalation)."),
                                 "bad_escalation"))
    clean["escalation_minutes"] = escalation

    level = data.get("reporting_level")
    if level not in REPORTING_LEVELS:
        errors.append(FieldError("reporting_level", _("Choose communes or districts as reporting units."),
                                 "bad_level"))
    district_ids = sorted({i for i in (_parse_int(x) for x in (data.get("district_ids") or [])) if i})
    districts = list(db.session.scalars(select(Unit).where(Unit.id.in_(district_ids), Unit.level == "district")))
    if len(districts) != len(district_ids):
        errors.append(FieldError("district_ids", _("Choose districts from the list."), "bad_district"))
    clean["reporting_level"] = level
    clean["unit_ids"] = []
    if level in REPORTING_LEVELS:
        stmt = select(Unit.id).where(Unit.level == level)
        if district_ids:
            column = Unit.parent_id if level == "commune" else Unit.id
            stmt = stmt.where(column.in_(district_ids))
        clean["unit_ids"] = list(db.session.scalars(stmt.order_by(Unit.code)))
        if not clean["unit_ids"] and not any(e.field == "district_ids" for e in errors):
            errors.append(FieldError("district_ids", _("No unit would report for this campaign."), "no_units"))

    metrics: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, raw in enumerate(data.get("metrics") or []):
        label = " ".join(str(raw.get("label") or "").split())
        rule = raw.get("target_rule") or "none"
        value = _parse_int(raw.get("target_value"))
        if not label:
            if raw.get("target_value") not in (None, ""):
                errors.append(FieldError(f"metric-{i}", _("Metric %(n)d: give its name.", n=i + 1), "metric_label"))
            continue
        if len(label) > 200:
            errors.append(FieldError(f"metric-{i}", _("Metric %(n)d: the name is too long.", n=i + 1), "too_long"))
        key = metric_key(raw.get("key") or label)
        if key in keys:
            errors.append(FieldError(f"metric-{i}", _("Metric %(n)d is listed twice.", n=i + 1), "duplicate_metric"))
        keys.add(key)
        if rule not in TARGET_RULES:
            errors.append(FieldError(f"metric-{i}", _("Metric %(n)d: unknown target rule.", n=i + 1), "bad_rule"))
        elif rule == "none":
            value = None
        elif value is None or value <= 0 or value > MAX_VALUE:
            errors.append(FieldError(
                f"metric-{i}",
                _("Metric %(n)d: the target must be a whole number above 0 (a fixed number, or N per member).",
                  n=i + 1), "bad_target"))
        metrics.append({"key": key, "label": label, "target_rule": rule, "target_value": value})
    if not metrics:
        errors.append(FieldError("metrics", _("Give at least one metric to report."), "no_metrics"))
    elif len(metrics) > MAX_METRICS:
        errors.append(FieldError("metrics", _("At most %(n)d metrics.", n=MAX_METRICS), "too_many_metrics"))
    clean["metrics"] = metrics

    if campaign is not None and not errors and has_reports(campaign):
        fixed = {"start_dt": campaign.start_dt, "end_dt": campaign.end_dt, "rhythm": campaign.rhythm,
                 "cutoff_minutes": campaign.cutoff_minutes, "reporting_level": campaign.reporting_level}
        if any(clean[k] != v for k, v in fixed.items()) or \
                [m["key"] for m in metrics] != [m.key for m in campaign.metrics] or \
                set(clean["unit_ids"]) != {cu.unit_id for cu in campaign.units}:
            errors.append(FieldError("start", _("Reports are in: the dates, rhythm, cut-off, metrics and units can "
                                                "no longer change (names and targets can)."), "periods_locked"))
    if errors:
        raise ValidationFailed("invalid_campaign", _("The campaign was not saved. Fix these problems:"),
                               errors=errors)
    return clean


def has_reports(campaign: Campaign) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(ProgressReport)
                                  .where(ProgressReport.campaign_id == campaign.id)))


def _state_at(clean: dict[str, Any], now: datetime) -> str:
    if now < clean["start_dt"]:
        return "scheduled"
    return "open" if now < clean["end_dt"] else "closed"


def save_campaign(data: dict[str, Any], *, campaign: Campaign | None = None, actor: User | None = None,
                  now: datetime | None = None) -> Campaign:
    """Create a campaign (campaign=None) or change one; schedules its open, reminders, escalations,
    summaries and close. Refused whole with every problem listed."""
    now = now or utcnow()
    if campaign is not None and campaign.state == "cancelled":
        raise DomainError("campaign_cancelled", _("This campaign was cancelled."))
    clean = validate_campaign(data, campaign=campaign)
    creating = campaign is None
    if creating:
        campaign = Campaign(created_by=actor, template=clean["template"])
        db.session.add(campaign)
    for key in ("name", "description", "start_dt", "end_dt", "anchor_event_id", "anchor_days", "rhythm",
                "cutoff_minutes", "escalation_minutes", "reporting_level"):
        setattr(campaign, key, clean[key])
    state = _state_at(clean, now)
    if campaign.state != state:
        campaign.state, campaign.state_changed_dt = state, now
    # Metrics: matched by key, so targets can change after reports are in.
    by_key = {m.key: m for m in campaign.metrics}
    kept = []
    for position, m in enumerate(clean["metrics"]):
        metric = by_key.get(m["key"]) or CampaignMetric(key=m["key"])
        metric.label, metric.position = m["label"], position
        metric.target_rule, metric.target_value = m["target_rule"], m["target_value"]
        kept.append(metric)
    campaign.metrics = kept
    wanted = set(clean["unit_ids"])
    campaign.units = [cu for cu in campaign.units if cu.unit_id in wanted] + [
        CampaignUnit(unit_id=uid) for uid in clean["unit_ids"]
        if uid not in {cu.unit_id for cu in campaign.units}]
    db.session.flush()
    _schedule(campaign, now)
    audit.record("campaign.created" if creating else "campaign.updated",
                 f"campaign {campaign.name}: {len(wanted)} {campaign.reporting_level} units, "
                 f"{to_local(campaign.start_dt):%d/%m/%Y %H:%M} - {to_local(campaign.end_dt):%d/%m/%Y %H:%M}",
                 user=actor, target=campaign,
                 details={"template": campaign.template, "metrics": [m["key"] for m in clean["metrics"]]})
    db.session.commit()
    return campaign


def _schedule(campaign: Campaign, now: datetime) -> None:
    """(Re)create the campaign's pending tasks: only the future ones (a late-made campaign sends no backlog)."""
    db.session.execute(update(ScheduledTask).where(ScheduledTask.campaign_id == campaign.id,
                                                   ScheduledTask.status == "pending")
                       .values(status="cancelled", finished_dt=now))
    if campaign.state == "cancelled":
        return
    if campaign.start_dt > now:
        schedule_task("campaign.open", campaign.start_dt, campaign_id=campaign.id)
    if campaign.end_dt > now:
        schedule_task("campaign.close", campaign.end_dt, campaign_id=campaign.id)
    all_periods = periods(campaign)
    for period in all_periods:
        payload = {"period": period.index}
        if period.deadline > now:
            schedule_task("campaign.remind", period.deadline, campaign_id=campaign.id, payload=payload)
        escalate_at = period.deadline + timedelta(minutes=campaign.escalation_minutes)
        if campaign.escalation_minutes and escalate_at > now:
            schedule_task("campaign.escalate", escalate_at, campaign_id=campaign.id, payload=payload)
        if period.index < len(all_periods) - 1 and period.end > now:  # the close sends the last one
            schedule_task("campaign.summary", period.end, campaign_id=campaign.id, payload=payload)


def follow_event(event: Event, *, actor: User | None = None, now: datetime | None = None) -> list[Campaign]:
    """Move the not-yet-started campaigns counted from `event` to its new start (the event moved).

    Their dates come from the launch ("7 days from the launch"): a launch put off by a day puts the
    campaign off by a day, with its reminders. A campaign already open keeps its dates (reports
    are in against its periods). The caller commits.
    """
    now = now or utcnow()
    moved = []
    anchored = db.session.scalars(select(Campaign).where(Campaign.anchor_event_id == event.id,
                                                         Campaign.state == "scheduled"))
    for campaign in anchored:
        start = event.start_dt
        end = _local_midnight(to_local(event.start_dt).date() + timedelta(days=campaign.anchor_days or 1))
        if (campaign.start_dt, campaign.end_dt) == (start, end):
            continue
        old = f"{to_local(campaign.start_dt):%d/%m/%Y %H:%M} - {to_local(campaign.end_dt):%d/%m/%Y %H:%M}"
        campaign.start_dt, campaign.end_dt = start, end
        state = _state_at({"start_dt": start, "end_dt": end}, now)
        if campaign.state != state:
            campaign.state, campaign.state_changed_dt = state, now
        db.session.flush()
        _schedule(campaign, now)
        audit.record("campaign.moved", f"campaign {campaign.name}: {old} -> "
                     f"{to_local(start):%d/%m/%Y %H:%M} - {to_local(end):%d/%m/%Y %H:%M} (its launch moved)",
                     user=actor, target=campaign, details={"event_id": event.id})
        moved.append(campaign)
    return moved


def cancel_campaign(campaign: Campaign, *, actor: User | None = None, now: datetime | None = None) -> None:
    """Stop a campaign: its pending tasks are cancelled; reports stay readable."""
    now = now or utcnow()
    if campaign.state == "cancelled":
        return
    campaign.state, campaign.state_changed_dt = "cancelled", now
    _schedule(campaign, now)
    audit.record("campaign.cancelled", f"campaign {campaign.name} cancelled", user=actor, target=campaign)
    db.session.commit()


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("unknown_campaign", _("This campaign does not exist."))
    return campaign


def campaign_form_data(campaign: Campaign) -> dict[str, Any]:
    """A campaign's settings in the shape `save_campaign` takes (to fill the edit form)."""
    return {
        "template": campaign.template, "name": campaign.name, "description": campaign.description or "",
        "date_mode": "anchor" if campaign.anchor_event_id else "dates",
        "anchor_event_id": campaign.anchor_event_id, "anchor_days": campaign.anchor_days,
        "start": to_local(campaign.start_dt).replace(tzinfo=None) if campaign.start_dt else None,
        "end": to_local(campaign.end_dt).replace(tzinfo=None) if campaign.end_dt else None,
        "rhythm": campaign.rhythm, "cutoff": cutoff_text(campaign),
        "escalation_minutes": campaign.escalation_minutes, "reporting_level": campaign.reporting_level,
        "district_ids": sorted(reporting_districts(campaign)),
        "metrics": [{"key": m.key, "label": m.label, "target_rule": m.target_rule, "target_value": m.target_value}
                    for m in campaign.metrics],
    }


def reporting_districts(campaign: Campaign) -> set[int]:
    """The districts the campaign's units are in (empty: every unit of its level in the province)."""
    unit_ids = {cu.unit_id for cu in campaign.units}
    every = set(db.session.scalars(select(Unit.id).where(Unit.level == campaign.reporting_level)))
    if unit_ids == every:
        return set()
    return {u.id if u.level == "district" else u.parent_id for u in (cu.unit for cu in campaign.units)}


# --------------------------------------------------------------------------------------------
# Targets


def primary_metric(campaign: Campaign) -> CampaignMetric | None:
    """The metric the dashboard ranks by: the first with a target, else the first."""
    with_target = [m for m in campaign.metrics if m.target_rule != "none"]
    return (with_target or campaign.metrics or [None])[0]


def targets(campaign: Campaign, unit_ids: list[int] | None = None) -> dict[tuple[int, int], int | None]:
    """(unit_id, metric_id) -> the unit's target over the whole campaign (None: no target)."""
    unit_ids = unit_ids if unit_ids is not None else [cu.unit_id for cu in campaign.units]
    members = members_rolled_up() if any(m.target_rule == "per_member" for m in campaign.metrics) else {}
    overrides = {(o.unit_id, o.metric_id): o.target for o in
                 db.session.scalars(select(TargetOverride).where(TargetOverride.campaign_id == campaign.id))}
    out: dict[tuple[int, int], int | None] = {}
    for uid in unit_ids:
        for m in campaign.metrics:
            if (uid, m.id) in overrides:
                out[(uid, m.id)] = overrides[(uid, m.id)]
            elif m.target_rule == "fixed":
                out[(uid, m.id)] = m.target_value
            elif m.target_rule == "per_member":
                out[(uid, m.id)] = members.get(uid, 0) * (m.target_value or 0)
            else:
                out[(uid, m.id)] = None
    return out


def set_target_overrides(campaign: Campaign, values: dict[tuple[int, int], Any], *, actor: User | None = None
                         ) -> int:
    """Set (unit_id, metric_id) -> target overrides; blank removes one. Refused whole; returns changes."""
    unit_ids = {cu.unit_id for cu in campaign.units}
    metric_ids = {m.id for m in campaign.metrics}
    existing = {(o.unit_id, o.metric_id): o for o in
                db.session.scalars(select(TargetOverride).where(TargetOverride.campaign_id == campaign.id))}
    errors: list[str] = []
    clean: dict[tuple[int, int], int | None] = {}
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    for (uid, mid), raw in values.items():
        if uid not in unit_ids or mid not in metric_ids:
            errors.append(_("A target was given for a unit or metric outside this campaign."))
            continue
        if raw in (None, ""):
            clean[(uid, mid)] = None
            continue
        number = _parse_int(raw)
        if number is None or number < 0 or number > MAX_VALUE:
            errors.append(_("%(unit)s: the target must be a whole number of 0 or more.", unit=names.get(uid, uid)))
            continue
        clean[(uid, mid)] = number
    if errors:
        raise ValidationFailed("invalid_targets", _("The targets were not saved."), errors=errors)
    changed = 0
    for key, number in clean.items():
        row = existing.get(key)
        if number is None and row is not None:
            db.session.delete(row)
            changed += 1
        elif number is not None and row is None:
            db.session.add(TargetOverride(campaign_id=campaign.id, unit_id=key[0], metric_id=key[1], target=number))
            changed += 1
        elif number is not None and row.target != number:
            row.target = number
            changed += 1
    if changed:
        audit.record("campaign.targets", f"campaign {campaign.name}: {changed} target overrides changed",
                     user=actor, target=campaign,
                     details={f"{u}:{m}": v for (u, m), v in clean.items()})
    db.session.commit()
    from launch.realtime import publisher

    publisher.campaign_updated(campaign.id)
    return changed


# --------------------------------------------------------------------------------------------
# Progress reports


def submit_report(campaign: Campaign, unit_id: int, period_index: Any, values: dict[Any, Any], *, user: User,
                  note: str | None = None, now: datetime | None = None) -> ProgressReport:
    """Record a unit's numbers for a period. A second report for the same period is a correction: a new
    version supersedes the old one (kept in the history). Late reports are accepted and marked late."""
    now = now or utcnow()
    report = _write_report(campaign, unit_id, period_index, values, user=user, note=note, now=now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("concurrent_report", _("Another report for this period arrived at the same moment. "
                                                  "Reload and check the numbers."), status=409) from None
    from launch.realtime import publisher

    publisher.campaign_updated(campaign.id)
    return report


def _write_report(campaign: Campaign, unit_id: int, period_index: Any, values: dict[Any, Any], *, user: User,
                  note: str | None, now: datetime, audit_it: bool = True) -> ProgressReport:
    if user is None or not (user.is_operator or user.is_host):
        raise Forbidden("read_only", _("Your account can read campaigns but not report."))
    if campaign.state == "cancelled":
        raise DomainError("campaign_cancelled", _("This campaign was cancelled; it takes no more reports."))
    unit_id = _parse_int(unit_id)
    reporting = {cu.unit_id for cu in campaign.units}
    if unit_id not in reporting:
        raise DomainError("not_reporting_unit", _("This unit does not report for this campaign."))
    if not can_act_for(user, unit_id):
        raise Forbidden("out_of_scope", _("You can report only for your own units."))
    index = _parse_int(period_index)
    all_periods = periods(campaign)
    if index is None or not 0 <= index < len(all_periods):
        raise DomainError("period_outside", _("This period is outside the campaign."))
    period = all_periods[index]
    if period.start > now:
        raise DomainError("period_not_started", _("This period has not started yet; report when it has."))
    errors: list[str] = []
    clean: dict[int, int] = {}
    given = {str(k): v for k, v in values.items()}
    for metric in campaign.metrics:
        raw = given.get(str(metric.id), given.get(metric.key))
        number = _parse_int(raw)
        if raw in (None, ""):
            errors.append(_("%(metric)s: give a number (0 if none).", metric=metric.label))
        elif number is None:
            errors.append(_("%(metric)s: give a whole number.", metric=metric.label))
        elif number < 0:
            errors.append(_("%(metric)s: the number cannot be negative.", metric=metric.label))
        elif number > MAX_VALUE:
            errors.append(_("%(metric)s: the number is too large.", metric=metric.label))
        else:
            clean[metric.id] = number
    note = (note or "").strip() or None
    if note and len(note) > 500:
        errors.append(_("The note is longer than 500 characters."))
    if errors:
        raise ValidationFailed("invalid_report", _("The report was not saved."), errors=errors)

    current_stmt = select(ProgressReport).where(
        ProgressReport.campaign_id == campaign.id, ProgressReport.unit_id == unit_id,
        ProgressReport.period_index == index, ProgressReport.superseded_dt.is_(None))
    if db.engine.dialect.name == "postgresql":
        current_stmt = current_stmt.with_for_update()
    current = db.session.scalar(current_stmt)
    if current is not None:
        old = {v.metric_id: v.value for v in current.values}
        if old == clean and (note or None) == current.note:
            return current  # the same numbers again (a double submit): nothing to correct
        current.superseded_dt = now
    report = ProgressReport(campaign_id=campaign.id, unit_id=unit_id, period_index=index,
                            version=(current.version + 1) if current else 1, reported_dt=now,
                            reported_by_id=user.id, is_late=now > period.deadline, note=note,
                            values=[ProgressValue(metric_id=mid, value=v) for mid, v in clean.items()])
    db.session.add(report)
    if audit_it:
        unit = db.session.get(Unit, unit_id)
        audit.record("campaign.report_corrected" if current else "campaign.reported",
                     f"campaign {campaign.name}: {unit.code} {unit.name} period {period.label} "
                     f"v{report.version}{' (late)' if report.is_late else ''}",
                     user=user, target=campaign,
                     details={"unit": unit.code, "period": index, "values": {m.key: clean[m.id]
                                                                             for m in campaign.metrics}})
    db.session.flush()
    return report


def report_history(campaign: Campaign, unit_id: int, period_index: int | None = None) -> list[ProgressReport]:
    """Every version of a unit's reports (newest first), optionally for one period."""
    stmt = select(ProgressReport).where(ProgressReport.campaign_id == campaign.id, ProgressReport.unit_id == unit_id)
    if period_index is not None:
        stmt = stmt.where(ProgressReport.period_index == period_index)
    return list(db.session.scalars(stmt.order_by(ProgressReport.period_index.desc(), ProgressReport.version.desc())))


def recent_reports_query(campaign: Campaign, unit_ids: set[int] | None = None):  # noqa: ANN201
    """A SELECT of the campaign's report versions, newest first (for the paginated history)."""
    stmt = select(ProgressReport).where(ProgressReport.campaign_id == campaign.id)
    if unit_ids is not None:
        stmt = stmt.where(ProgressReport.unit_id.in_(unit_ids or {-1}))
    return stmt.order_by(ProgressReport.reported_dt.desc(), ProgressReport.id.desc())


# --------------------------------------------------------------------------------------------
# Visibility


def visible_unit_ids(campaign: Campaign, user: User | None) -> set[int]:
    """The campaign's reporting units `user` may see (None: the system, sees all)."""
    unit_ids = {cu.unit_id for cu in campaign.units}
    if user is None or can_read_all(user):
        return unit_ids
    scope = scoped_unit_ids(user)
    return unit_ids if scope is None else unit_ids & scope


def ensure_can_view(campaign: Campaign, user: User) -> None:
    """Operators and viewers read every campaign; hosts those with units in their scope."""
    if not visible_unit_ids(campaign, user):
        raise Forbidden("out_of_scope", _("None of your units reports for this campaign."))


def campaigns_for(user: User):  # noqa: ANN201
    """A SELECT of the campaigns `user` may see, newest start first."""
    stmt = select(Campaign)
    if not can_read_all(user):
        scope = scoped_unit_ids(user) or set()
        stmt = stmt.where(Campaign.id.in_(select(CampaignUnit.campaign_id).where(
            CampaignUnit.unit_id.in_(scope or {-1}))))
    return stmt.order_by(Campaign.start_dt.desc(), Campaign.id.desc())


# --------------------------------------------------------------------------------------------
# The dashboard's figures


@dataclass
class UnitProgress:
    """One reporting unit's figures."""

    unit: Unit
    members: int
    values: dict[int, int]
    targets: dict[int, int | None]
    #: period index -> on_time / late / missing / open / upcoming
    statuses: dict[int, str]
    #: period index -> {metric_id: value} (current versions)
    by_period: dict[int, dict[int, int]] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    pct: float | None = None
    pace: int | None = None
    below: bool = False

    def status_counts(self) -> dict[str, int]:
        out = defaultdict(int)
        for s in self.statuses.values():
            out[s] += 1
        return out


@dataclass
class GroupProgress:
    """A district's figures, summed over its visible reporting units."""

    unit: Unit
    units: list[UnitProgress]
    values: dict[int, int]
    targets: dict[int, int | None]
    focus: dict[str, int]
    pct: float | None = None
    below: int = 0


def _pct(value: int, target: int | None) -> float | None:
    return round(100.0 * value / target, 1) if target else None


def progress(campaign: Campaign, *, user: User | None = None, district_id: int | None = None,
             now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard, the JSON endpoint and the exports show, computed from stored reports."""
    now = now or utcnow()
    all_periods = periods(campaign)
    started = [p for p in all_periods if p.start <= now]
    due = [p for p in all_periods if p.deadline <= now]
    focus = due[-1] if due else (started[-1] if started else None)
    visible = visible_unit_ids(campaign, user)
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(visible or {-1})))}
    parents = {u.parent_id for u in units.values() if u.parent_id}
    parent_units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(parents or {-1})))}
    metrics = list(campaign.metrics)
    primary = primary_metric(campaign)
    target_map = targets(campaign, list(units))
    members = members_rolled_up()

    first_late: dict[tuple[int, int], bool] = {}
    versions: dict[tuple[int, int], int] = {}
    for uid, pidx, version, is_late, superseded in db.session.execute(
        select(ProgressReport.unit_id, ProgressReport.period_index, ProgressReport.version, ProgressReport.is_late,
               ProgressReport.superseded_dt).where(ProgressReport.campaign_id == campaign.id)
    ).all():
        if uid not in units:
            continue
        if version == 1:
            first_late[(uid, pidx)] = is_late
        if superseded is None:
            versions[(uid, pidx)] = version
    by_period: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for uid, pidx, mid, value in db.session.execute(
        select(ProgressReport.unit_id, ProgressReport.period_index, ProgressValue.metric_id, ProgressValue.value)
        .join(ProgressValue, ProgressValue.report_id == ProgressReport.id)
        .where(ProgressReport.campaign_id == campaign.id, ProgressReport.superseded_dt.is_(None))
    ).all():
        if uid in units:
            by_period[uid][pidx][mid] = value

    pace_share = (len(due) / len(all_periods)) if all_periods else 0
    rows: list[UnitProgress] = []
    for uid, unit in sorted(units.items(), key=lambda kv: kv[1].code):
        statuses = {}
        for p in all_periods:
            if (uid, p.index) in versions:
                statuses[p.index] = "late" if first_late.get((uid, p.index)) else "on_time"
            elif p.start > now:
                statuses[p.index] = "upcoming"
            else:
                statuses[p.index] = "missing" if p.deadline <= now else "open"
        values = {m.id: sum(v.get(m.id, 0) for v in by_period[uid].values()) for m in metrics}
        row = UnitProgress(unit=unit, members=members.get(uid, 0), values=values,
                           targets={m.id: target_map.get((uid, m.id)) for m in metrics}, statuses=statuses,
                           by_period={k: dict(v) for k, v in by_period[uid].items()},
                           versions={p: versions[(uid, p)] for p in range(len(all_periods)) if (uid, p) in versions})
        if primary is not None:
            target = row.targets.get(primary.id)
            row.pct = _pct(values.get(primary.id, 0), target)
            if target:
                row.pace = math.ceil(target * pace_share)
                row.below = values.get(primary.id, 0) < row.pace
        rows.append(row)

    def focus_counts(items: list[UnitProgress]) -> dict[str, int]:
        counts = {"on_time": 0, "late": 0, "missing": 0, "open": 0, "upcoming": 0}
        if focus is not None:
            for r in items:
                counts[r.statuses[focus.index]] += 1
        counts["reported"] = counts["on_time"] + counts["late"]
        return counts

    # Districts: group reporting units by district (a district reporting unit is its own group).
    grouped: dict[int, list[UnitProgress]] = defaultdict(list)
    for r in rows:
        grouped[r.unit.id if r.unit.level == "district" else r.unit.parent_id].append(r)
    groups: list[GroupProgress] = []
    for gid, items in grouped.items():
        gunit = units.get(gid) or parent_units.get(gid)
        values = {m.id: sum(r.values[m.id] for r in items) for m in metrics}
        tvals = {m.id: (sum(r.targets[m.id] or 0 for r in items)
                        if any(r.targets[m.id] is not None for r in items) else None) for m in metrics}
        group = GroupProgress(unit=gunit, units=items, values=values, targets=tvals, focus=focus_counts(items),
                              below=sum(1 for r in items if r.below))
        if primary is not None:
            group.pct = _pct(values[primary.id], tvals[primary.id])
        groups.append(group)
    groups.sort(key=lambda g: g.unit.code)

    shown = [r for r in rows if district_id is None or r.unit.parent_id == district_id or r.unit.id == district_id]
    total_values = {m.id: sum(r.values[m.id] for r in rows) for m in metrics}
    total_targets = {m.id: (sum(r.targets[m.id] or 0 for r in rows)
                            if any(r.targets[m.id] is not None for r in rows) else None) for m in metrics}

    completeness = []
    for p in started:
        counts = {"on_time": 0, "late": 0, "missing": 0, "open": 0}
        for r in rows:
            status = r.statuses[p.index]
            if status in counts:
                counts[status] += 1
        completeness.append({"period": p, **counts, "reported": counts["on_time"] + counts["late"]})

    trend_per = []
    trend_cum = []
    running = 0
    for p in started:
        amount = sum(r.by_period.get(p.index, {}).get(primary.id, 0) for r in rows) if primary else 0
        running += amount
        trend_per.append(amount)
        trend_cum.append(running)
    total_target = total_targets.get(primary.id) if primary else None
    trend_pace = ([math.ceil(total_target * (p.index + 1) / len(all_periods)) for p in started]
                  if total_target else [])
    ranked = [r for r in rows if primary is not None and (r.pct is not None or r.values[primary.id])]
    ranked.sort(key=lambda r: (-(r.pct if r.pct is not None else -1), -r.values[primary.id], r.unit.code))
    return {
        "campaign": campaign, "now": now, "periods": all_periods, "started": started, "due": due, "focus": focus,
        "current": started[-1] if started else None, "metrics": metrics, "primary": primary,
        "units": rows, "shown": shown, "groups": groups,
        "district": parent_units.get(district_id) or units.get(district_id) if district_id else None,
        "totals": {"values": total_values, "targets": total_targets,
                   "pct": _pct(total_values[primary.id], total_targets[primary.id]) if primary else None,
                   "focus": focus_counts(rows), "units": len(rows), "below": sum(1 for r in rows if r.below)},
        "completeness": completeness,
        "trend": {"labels": [p.short_label for p in started], "per_period": trend_per, "cumulative": trend_cum,
                  "pace": trend_pace},
        "top": ranked[:5],
        "below": [r for r in rows if r.below],
    }


def progress_json(data: dict[str, Any], rows: list[UnitProgress] | None = None) -> dict[str, Any]:
    """The dashboard's figures as plain JSON (for the live refresh and API clients); `rows`: the units listed."""
    metrics = data["metrics"]

    def unit_dict(r: UnitProgress) -> dict[str, Any]:
        return {"id": r.unit.id, "code": r.unit.code, "name": r.unit.name, "members": r.members,
                "values": {m.key: r.values[m.id] for m in metrics},
                "targets": {m.key: r.targets[m.id] for m in metrics}, "pct": r.pct, "below": r.below,
                "status": r.statuses[data["focus"].index] if data["focus"] else None}

    focus = data["focus"]
    return {
        "ok": True,
        "campaign": {"id": data["campaign"].id, "name": data["campaign"].name, "state": data["campaign"].state},
        "metrics": [{"key": m.key, "label": m.label} for m in metrics],
        "primary": data["primary"].key if data["primary"] else None,
        "focus_period": {"index": focus.index, "label": focus.label} if focus else None,
        "totals": {"values": {m.key: data["totals"]["values"][m.id] for m in metrics},
                   "targets": {m.key: data["totals"]["targets"][m.id] for m in metrics},
                   "pct": data["totals"]["pct"], **data["totals"]["focus"]},
        "districts": [{"id": g.unit.id, "code": g.unit.code, "name": g.unit.name, "pct": g.pct,
                       "values": {m.key: g.values[m.id] for m in metrics},
                       "targets": {m.key: g.targets[m.id] for m in metrics}, **g.focus} for g in data["groups"]],
        "units": [unit_dict(r) for r in (data["shown"] if rows is None else rows)],
        "completeness": [{"period": c["period"].label, "on_time": c["on_time"], "late": c["late"],
                          "missing": c["missing"], "open": c["open"]} for c in data["completeness"]],
        "trend": data["trend"],
        "top": [unit_dict(r) for r in data["top"]],
    }


# --------------------------------------------------------------------------------------------
# Exports


def export_rows(campaign: Campaign, kind: str, *, user: User | None = None, now: datetime | None = None
                ) -> tuple[list[str], list[list[Any]]]:
    """(headings, rows) for `kind` = results (one row per unit) or status (one row per unit per period)."""
    data = progress(campaign, user=user, now=now)
    metrics = data["metrics"]
    parent_names = {g.unit.id: g.unit.name for g in data["groups"]}

    def district_of(unit: Unit) -> str:
        return unit.name if unit.level == "district" else parent_names.get(unit.parent_id, "")

    if kind == "results":
        headings = [_("District"), _("Unit code"), _("Unit"), _("Team members")]
        for m in metrics:
            headings += [m.label, _("%(metric)s: target", metric=m.label), _("%(metric)s: %% of target",
                                                                              metric=m.label)]
        headings += [_("Reports on time"), _("Reports late"), _("Reports missing")]
        rows = []
        for r in data["units"]:
            counts = r.status_counts()
            row: list[Any] = [district_of(r.unit), r.unit.code, r.unit.name, r.members]
            for m in metrics:
                row += [r.values[m.id], r.targets[m.id], _pct(r.values[m.id], r.targets[m.id])]
            row += [counts.get("on_time", 0), counts.get("late", 0), counts.get("missing", 0)]
            rows.append(row)
        return headings, rows
    if kind != "status":
        raise NotFound("unknown_export", _("This export does not exist."))
    headings = [_("Period"), _("Cut-off"), _("District"), _("Unit code"), _("Unit"), _("Status"), _("Reported at"),
                _("Reported by"), _("Version")] + [m.label for m in metrics]
    latest: dict[tuple[int, int], ProgressReport] = {
        (rep.unit_id, rep.period_index): rep for rep in db.session.scalars(
            select(ProgressReport).where(ProgressReport.campaign_id == campaign.id,
                                         ProgressReport.superseded_dt.is_(None)))}
    rows = []
    for p in data["started"]:
        for r in data["units"]:
            rep = latest.get((r.unit.id, p.index))
            values = r.by_period.get(p.index, {})
            rows.append([p.label, p.deadline, district_of(r.unit), r.unit.code,
                         r.unit.name, str(STATUS_LABELS[r.statuses[p.index]]),
                         rep.reported_dt if rep else "",
                         (rep.reported_by.display_name if rep and rep.reported_by else ""),
                         rep.version if rep else ""]
                        + [values.get(m.id, "") if rep else "" for m in metrics])
    return headings, rows


def export_csv(campaign: Campaign, kind: str, **kwargs: Any) -> str:
    """The export as CSV text (UTF-8 with BOM added by the view, for Excel); written by `exports`."""
    headings, rows = export_rows(campaign, kind, **kwargs)
    return exports.csv_text(headings, rows)


def export_xlsx(campaign: Campaign, kind: str, **kwargs: Any) -> bytes:
    """The export as an Excel workbook; written by `exports` (formula-safe text, real date-times)."""
    headings, rows = export_rows(campaign, kind, **kwargs)
    title = _("Results") if kind == "results" else _("Reporting status")
    return exports.xlsx_bytes([exports.Sheet(title, headings, rows)])


# --------------------------------------------------------------------------------------------
# Who is told


def _enabled_users(role: str) -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == role, User.is_enabled.is_(True))
                                   .order_by(User.id)))


def operators() -> list[User]:
    return _enabled_users("operator")


def hosts_by_unit() -> dict[int, list[User]]:
    """unit id -> hosts assigned directly to it."""
    out: dict[int, list[User]] = defaultdict(list)
    for user in _enabled_users("host"):
        for unit in user.units:
            out[unit.id].append(user)
    return out


def unit_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None) -> list[User]:
    """The hosts of a unit: those assigned to it, or else those of its district."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    return list(by_unit.get(unit.id) or (by_unit.get(unit.parent_id, []) if unit.parent_id else []))


def district_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None) -> list[User]:
    """Who a missing report escalates to: the district's hosts (operators for a district unit or none)."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    if unit.level == "commune" and by_unit.get(unit.parent_id):
        return list(by_unit[unit.parent_id])
    return operators()


def _missing_units(campaign: Campaign, period: Period, now: datetime) -> list[Unit]:
    reported = set(db.session.scalars(select(ProgressReport.unit_id).where(
        ProgressReport.campaign_id == campaign.id, ProgressReport.period_index == period.index)))
    return sorted((cu.unit for cu in campaign.units if cu.unit_id not in reported), key=lambda u: u.code)


def _group_by_recipient(units: list[Unit], who) -> dict[int, tuple[User, list[Unit]]]:  # noqa: ANN001
    out: dict[int, tuple[User, list[Unit]]] = {}
    for unit in units:
        for user in who(unit):
            out.setdefault(user.id, (user, []))[1].append(unit)
    return out


def _unit_list(units: list[Unit], limit: int = 30) -> str:
    names = ", ".join(u.name for u in units[:limit])
    return names + (_(" and %(n)d more", n=len(units) - limit) if len(units) > limit else "")


def summary_text(campaign: Campaign, period: Period | None, now: datetime, *, final: bool = False) -> tuple[str, str]:
    """(subject, body) of a period summary or the final summary, for operators."""
    data = progress(campaign, now=now)
    totals = data["totals"]
    if final:
        subject = _("%(name)s: final summary", name=campaign.name)
    else:
        subject = _("%(name)s: summary of period %(period)s", name=campaign.name, period=period.label)
    lines = []
    if period is not None:
        row = next((c for c in data["completeness"] if c["period"].index == period.index), None)
        if row:
            lines.append(_("Period %(period)s: %(reported)d of %(units)d units reported (%(on_time)d on time, "
                           "%(late)d late), %(missing)d missing.", period=period.label, reported=row["reported"],
                           units=totals["units"], on_time=row["on_time"], late=row["late"],
                           missing=row["missing"] + row["open"]))
    for m in data["metrics"]:
        target = totals["targets"][m.id]
        if target:
            lines.append(_("%(metric)s: %(value)d of %(target)d (%(pct)s%%).", metric=m.label,
                           value=totals["values"][m.id], target=target,
                           pct=_pct(totals["values"][m.id], target)))
        else:
            lines.append(_("%(metric)s: %(value)d.", metric=m.label, value=totals["values"][m.id]))
    if data["below"]:
        lines.append(_("Below target: %(units)s.", units=_unit_list([r.unit for r in data["below"]])))
    return subject, "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The scheduled life of a campaign


def _task_campaign(task: ScheduledTask) -> Campaign | None:
    campaign = db.session.get(Campaign, task.campaign_id) if task.campaign_id else None
    if campaign is None or campaign.state == "cancelled":
        task.status = "cancelled"
        return None
    return campaign


def _task_period(campaign: Campaign, task: ScheduledTask) -> Period | None:
    index = (task.payload or {}).get("period")
    all_periods = periods(campaign)
    return all_periods[index] if isinstance(index, int) and 0 <= index < len(all_periods) else None


@task_handler("campaign.open")
def run_open(task: ScheduledTask, now: datetime) -> None:
    """Open the campaign and tell the reporting units' hosts how to report."""
    campaign = _task_campaign(task)
    if campaign is None or campaign.state != "scheduled":
        return
    campaign.state, campaign.state_changed_dt = "open", now
    audit.record("campaign.opened", f"campaign {campaign.name} opened", actor="system", target=campaign)
    by_unit = hosts_by_unit()
    recipients = {u.id: u for cu in campaign.units for u in unit_hosts(cu.unit, by_unit)}
    first = periods(campaign)[0]
    send_notice(recipients.values(), _("%(name)s has started", name=campaign.name),
                _("The campaign runs until %(end)s. Report %(rhythm)s for each of your units by %(cutoff)s; "
                  "the first report is due %(deadline)s.", end=last_day(campaign).strftime("%d/%m/%Y"),
                  rhythm=str(RHYTHM_LABELS[campaign.rhythm]).lower(), cutoff=cutoff_text(campaign),
                  deadline=to_local(first.deadline).strftime("%d/%m/%Y %H:%M")),
                task=task, campaign_id=campaign.id)
    db.session.commit()
    from launch.realtime import publisher

    publisher.campaign_updated(campaign.id)


@task_handler("campaign.close")
def run_close(task: ScheduledTask, now: datetime) -> None:
    """Close the campaign and send operators the final summary."""
    campaign = _task_campaign(task)
    if campaign is None or campaign.state == "closed":
        return
    campaign.state, campaign.state_changed_dt = "closed", now
    audit.record("campaign.closed", f"campaign {campaign.name} closed", actor="system", target=campaign)
    all_periods = periods(campaign)
    subject, body = summary_text(campaign, all_periods[-1] if all_periods else None, now, final=True)
    send_notice(operators(), subject, body, task=task, campaign_id=campaign.id)
    db.session.commit()
    from launch.realtime import publisher

    publisher.campaign_updated(campaign.id)


@task_handler("campaign.remind", perishable=True)
def run_remind(task: ScheduledTask, now: datetime) -> None:
    """At a period's cut-off: remind the hosts of every unit that has not reported."""
    campaign = _task_campaign(task)
    period = _task_period(campaign, task) if campaign else None
    if period is None:
        return
    missing = _missing_units(campaign, period, now)
    by_unit = hosts_by_unit()
    for user, units in _group_by_recipient(missing, lambda u: unit_hosts(u, by_unit)).values():
        send_notice([user], _("Reminder: %(name)s report for %(period)s", name=campaign.name, period=period.label),
                    _("The cut-off (%(deadline)s) has passed and these units have not reported yet: %(units)s. "
                      "Late reports are still accepted.", deadline=to_local(period.deadline).strftime("%d/%m/%Y %H:%M"),
                      units=_unit_list(units)),
                    task=task, campaign_id=campaign.id)
    task.payload = {**(task.payload or {}), "missing": [u.code for u in missing]}
    db.session.commit()


@task_handler("campaign.escalate", perishable=True)
def run_escalate(task: ScheduledTask, now: datetime) -> None:
    """A delay after the cut-off: tell each district's hosts (or operators) which units are still missing."""
    campaign = _task_campaign(task)
    period = _task_period(campaign, task) if campaign else None
    if period is None:
        return
    missing = _missing_units(campaign, period, now)
    by_unit = hosts_by_unit()
    for user, units in _group_by_recipient(missing, lambda u: district_hosts(u, by_unit)).values():
        send_notice([user], _("Escalation: %(n)d units have not reported for %(name)s (%(period)s)", n=len(units),
                              name=campaign.name, period=period.label),
                    _("Still missing %(delay)d minutes after the cut-off: %(units)s. Please follow up with them.",
                      delay=campaign.escalation_minutes, units=_unit_list(units)),
                    task=task, campaign_id=campaign.id)
    task.payload = {**(task.payload or {}), "missing": [u.code for u in missing]}
    db.session.commit()


@task_handler("campaign.summary")
def run_summary(task: ScheduledTask, now: datetime) -> None:
    """At a period's end: the period's completeness and the cumulative progress, to operators."""
    campaign = _task_campaign(task)
    period = _task_period(campaign, task) if campaign else None
    if period is None:
        return
    subject, body = summary_text(campaign, period, now)
    send_notice(operators(), subject, body, task=task, campaign_id=campaign.id)
    db.session.commit()


# --------------------------------------------------------------------------------------------
# Demo data


def _spread(total: int, parts: int) -> list[int]:
    """`parts` whole numbers as even as possible summing to `total`."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


#: district code -> (district team members or None, village teams, total members): the article's figures
#: for Bình Sơn, Mộ Đức, Đức Phổ and Trà Bồng, plausible ones elsewhere.
DEMO_TEAMS = {
    "524": (10, 120, 650),   # Bình Sơn: 1 district + 22 commune + 120 village teams, nearly 650 members
    "533": (None, 68, 498),  # Mộ Đức: 13/13 communes, 68/68 villages, 498 members
    "534": (9, 83, 615),     # Đức Phổ: 99 teams (1 + 15 + 83), 615 members
    "525": (8, 79, 470),     # Trà Bồng: 96 teams at all levels (1 + 16 + 79)
    "522": (9, 92, 560),
    "527": (7, 55, 330),
    "528": (8, 70, 420),
    "529": (7, 64, 380),
    "530": (6, 36, 210),
    "531": (5, 20, 130),
    "532": (7, 58, 350),
    "535": (7, 76, 440),
    "536": (7, 0, 45),
}


def demo_teams_csv() -> str:
    """The demo teams as an importable CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["unit_code", "level", "name", "members"])
    districts = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.level == "district"))}
    for code, (district_members, villages, total) in DEMO_TEAMS.items():
        district = districts.get(code)
        if district is None:
            continue
        communes = list(district.children)
        remaining = total
        if district_members or not communes:
            members = district_members if communes else total
            writer.writerow([district.code, "district", f"Tổ CNSCĐ {district.name}", members])
            remaining -= members
        if not communes:
            continue
        teams_below = len(communes) + villages
        sizes = _spread(remaining, teams_below)
        village_counts = _spread(villages, len(communes))
        i = 0
        for commune, n_villages in zip(communes, village_counts, strict=True):
            writer.writerow([commune.code, "commune", f"Tổ CNSCĐ {commune.name}", sizes[i]])
            i += 1
            for v in range(1, n_villages + 1):
                writer.writerow([commune.code, "village", f"Tổ CNSCĐ thôn {v}", sizes[i]])
                i += 1
    return out.getvalue()


def _demo_reports(campaign: Campaign, operator: User, now: datetime, seed: int) -> None:
    """Plausible reports for every started period: most on time, some late, a few missing, one corrected."""
    rng = random.Random(seed)
    target_map = targets(campaign)
    n_periods = len(periods(campaign))
    for period in periods(campaign):
        if period.start > now:
            break
        closed = period.deadline <= now
        for cu in sorted(campaign.units, key=lambda c: c.unit.code):
            roll = rng.random()
            if roll > (0.9 if closed else 0.45):
                continue
            late = closed and roll > 0.8
            at = period.deadline + timedelta(hours=3) if late else min(now, period.deadline - timedelta(hours=1))
            at = max(at, period.start)
            if at > now:
                continue
            values = {}
            for m in campaign.metrics:
                target = target_map.get((cu.unit_id, m.id))
                base = (target / n_periods) if target else (6 if m.key == "residents_guided" else 3)
                values[m.id] = max(0, int(round(base * rng.uniform(0.5, 1.4))))
            _write_report(campaign, cu.unit_id, period.index, values, user=operator, note=None, now=at,
                          audit_it=False)
    first = db.session.scalar(select(ProgressReport).where(ProgressReport.campaign_id == campaign.id)
                              .order_by(ProgressReport.id).limit(1))
    if first is not None:  # one correction, so the history shows
        values = {v.metric_id: v.value + 5 for v in first.values}
        _write_report(campaign, first.unit_id, first.period_index, values, user=operator,
                      note="Bổ sung số liệu (demo)", now=max(first.reported_dt, now - timedelta(minutes=5)),
                      audit_it=False)


def seed_demo(operator: User | None, now: datetime | None = None) -> None:
    """Demo data: the teams (article figures) and both follow-up campaigns with some reports. Idempotent."""
    from launch.services.teams import import_teams

    now = now or utcnow()
    if not db.session.scalar(select(func.count()).select_from(Unit).where(Unit.level == "district")):
        return
    import_teams(demo_teams_csv(), actor=operator, source="demo")
    actor = operator or db.session.scalar(select(User).where(User.role == "operator").limit(1))

    if not db.session.scalar(select(Campaign.id).where(Campaign.template == "seven_in_seven").limit(1)):
        data = template_defaults("seven_in_seven", now)
        if data.get("anchor_event_id") is None:
            today = to_local(now).date()
            data.update(date_mode="dates", start=_local_midnight(today), end=_local_midnight(today + timedelta(days=7)))
        data["name"] = "Mỗi thành viên Tổ CNSCĐ hướng dẫn 7 người dân trong 7 ngày"
        campaign = save_campaign(data, actor=actor, now=now)
        if actor is not None:
            _demo_reports(campaign, actor, now, seed=7)
            db.session.commit()

    if not db.session.scalar(select(Campaign.id).where(Campaign.template == "peak_30_days").limit(1)):
        data = template_defaults("peak_30_days", now)
        start_day = to_local(now).date() - timedelta(days=10)
        data.update(start=_local_midnight(start_day), end=_local_midnight(start_day + timedelta(days=32)),
                    name="Kế hoạch cao điểm 30 ngày đêm – huyện Mộ Đức (demo)",
                    description="Kế hoạch của huyện Mộ Đức từ 05/8/2023 đến 05/9/2023 (32 ngày), đẩy mạnh nộp hồ "
                                "sơ dịch vụ công trực tuyến. Dữ liệu demo: kế hoạch được dời ngày để đang diễn ra "
                                "(bắt đầu 10 ngày trước hôm nay), cùng độ dài và cách báo cáo hằng tuần.")
        campaign = save_campaign(data, actor=actor, now=now)
        if actor is not None:
            _demo_reports(campaign, actor, now, seed=30)
            db.session.commit()
