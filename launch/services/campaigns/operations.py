"""Changing campaigns: saving the settings, target overrides, and the units' progress reports with corrections.

Targets and progress are always computed from the stored rules, teams and reports; nothing derived
is stored, so a correction changes every total at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from launch.clock import iso, to_local, utcnow
from launch.extensions import db
from launch.models import Unit, User
from launch.models.campaigns import (
    Campaign,
    CampaignMetric,
    CampaignUnit,
    ProgressReport,
    ProgressValue,
    TargetOverride,
)
from launch.services import audit
from launch.services.access import can_act_for
from launch.services.campaigns.forms import parse_int, validate_campaign
from launch.services.campaigns.lifecycle import schedule_tasks, state_at
from launch.services.campaigns.periods import Period, periods
from launch.services.campaigns.settings import MAX_VALUE
from launch.services.errors import DomainError, FieldError, Forbidden, ValidationFailed, all_or_nothing
from launch.signals import campaign_change


@all_or_nothing
def save_campaign(data: dict[str, Any], *, campaign: Campaign | None = None, actor: User | None = None,
                  now: datetime | None = None, confirm_over: bool = False) -> Campaign:
    """Create a campaign (campaign=None) or change one; schedules its open, reminders, escalations,
    summaries and close. Refused whole with every problem listed.

    A period already over (a template left unchanged, a year typed wrong) asks first: without
    `confirm_over` it is refused with `campaign_over`, since such a campaign opens closed and never
    reminds anyone."""
    now = now or utcnow()
    if campaign is not None and campaign.state == "cancelled":
        raise DomainError("campaign_cancelled", _("This campaign was cancelled."))
    clean = validate_campaign(data, campaign=campaign)
    creating = campaign is None
    if not confirm_over and clean["end_dt"] <= now and (creating or campaign.end_dt > now):
        message = _("This campaign's period is already over (it ended %(end)s): it would be closed at once and "
                    "nobody would be reminded. Check the dates, or confirm below to save it anyway.",
                    end=to_local(clean["end_dt"]).strftime("%d/%m/%Y %H:%M"))
        raise ValidationFailed("campaign_over", message, errors=[FieldError("campaign_over", message, "end")],
                               status=409)
    if creating:
        campaign = Campaign(created_by=actor, template=clean["template"])
        db.session.add(campaign)
    for key in ("name", "description", "start_dt", "end_dt", "anchor_event_id", "anchor_days", "rhythm",
                "cutoff_minutes", "escalation_minutes", "reporting_level"):
        setattr(campaign, key, clean[key])
    state = state_at(clean, now)
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
    schedule_tasks(campaign, now)
    audit.record("campaign.created" if creating else "campaign.updated",
                 f"campaign {campaign.name}: {len(wanted)} {campaign.reporting_level} units, "
                 f"{to_local(campaign.start_dt):%d/%m/%Y %H:%M} - {to_local(campaign.end_dt):%d/%m/%Y %H:%M}",
                 user=actor, target=campaign,
                 details={"template": campaign.template, "metrics": [m["key"] for m in clean["metrics"]],
                          "units": len(wanted), "level": campaign.reporting_level,
                          "start": iso(campaign.start_dt), "end": iso(campaign.end_dt)})
    db.session.commit()
    return campaign


@all_or_nothing
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
        number = parse_int(raw)
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
    campaign_change(campaign.id)
    return changed


def submit_report(campaign: Campaign, unit_id: int, period_index: Any, values: dict[Any, Any], *, user: User,
                  note: str | None = None, now: datetime | None = None) -> ProgressReport:
    """Record a unit's numbers for a period. A second report for the same period is a correction: a new
    version supersedes the old one (kept in the history). Late reports are accepted and marked late."""
    now = now or utcnow()
    report = write_report(campaign, unit_id, period_index, values, user=user, note=note, now=now)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DomainError("concurrent_report", _("Another report for this period arrived at the same moment. "
                                                  "Reload and check the numbers."), status=409) from None
    campaign_change(campaign.id)
    return report


def _report_period(campaign: Campaign, unit_id: Any, period_index: Any, user: User | None,
                   now: datetime) -> tuple[int, Period]:
    """The unit and period a report is for, if `user` may report them now (else refused)."""
    if user is None or not (user.is_operator or user.is_host):
        raise Forbidden("read_only", _("Your account can read campaigns but not report."))
    if campaign.state == "cancelled":
        raise DomainError("campaign_cancelled", _("This campaign was cancelled; it takes no more reports."))
    unit_id = parse_int(unit_id)
    if unit_id not in {cu.unit_id for cu in campaign.units}:
        raise DomainError("not_reporting_unit", _("This unit does not report for this campaign."))
    if not can_act_for(user, unit_id):
        raise Forbidden("out_of_scope", _("You can report only for your own units."))
    index = parse_int(period_index)
    all_periods = periods(campaign)
    if index is None or not 0 <= index < len(all_periods):
        raise DomainError("period_outside", _("This period is outside the campaign."))
    period = all_periods[index]
    if period.start > now:
        raise DomainError("period_not_started", _("This period has not started yet; report when it has."))
    return unit_id, period


def _report_values(campaign: Campaign, values: dict[Any, Any], note: str | None) -> tuple[dict[int, int], str | None]:
    """metric id -> number (given by metric id or key) and the note, or ValidationFailed listing every problem."""
    errors: list[str] = []
    clean: dict[int, int] = {}
    given = {str(k): v for k, v in values.items()}
    for metric in campaign.metrics:
        raw = given.get(str(metric.id), given.get(metric.key))
        number = parse_int(raw)
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
    return clean, note


def write_report(campaign: Campaign, unit_id: Any, period_index: Any, values: dict[Any, Any], *, user: User,
                 note: str | None, now: datetime, audit_it: bool = True) -> ProgressReport:
    """Record a report in the session (the caller commits): a new version supersedes the current one;
    the same numbers again (a double submit) change nothing."""
    unit_id, period = _report_period(campaign, unit_id, period_index, user, now)
    clean, note = _report_values(campaign, values, note)
    current_stmt = select(ProgressReport).where(
        ProgressReport.campaign_id == campaign.id, ProgressReport.unit_id == unit_id,
        ProgressReport.period_index == period.index, ProgressReport.superseded_dt.is_(None))
    if db.engine.dialect.name == "postgresql":
        current_stmt = current_stmt.with_for_update()
    current = db.session.scalar(current_stmt)
    if current is not None:
        old = {v.metric_id: v.value for v in current.values}
        if old == clean and (note or None) == current.note:
            return current  # the same numbers again (a double submit): nothing to correct
        current.superseded_dt = now
    report = ProgressReport(campaign_id=campaign.id, unit_id=unit_id, period_index=period.index,
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
                     details={"unit": unit.code, "period": period.index,
                              "values": {m.key: clean[m.id] for m in campaign.metrics}})
    db.session.flush()
    return report
