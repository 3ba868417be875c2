"""What a campaign tells people: reminders and escalations about missing reports, and the summaries."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from launch.clock import to_local
from launch.extensions import db
from launch.models import ScheduledTask, Unit, User
from launch.models.campaigns import (
    Campaign,
    ProgressReport,
)
from launch.services.campaigns.periods import Period
from launch.services.campaigns.progress import pct, progress
from launch.services.notifications import send_notice
from launch.services.recipients import area_hosts, hosts_by_unit, operators, unit_hosts


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
                           pct=pct(totals["values"][m.id], target)))
        else:
            lines.append(_("%(metric)s: %(value)d.", metric=m.label, value=totals["values"][m.id]))
    if data["below"]:
        lines.append(_("Below target: %(units)s.", units=_unit_list([r.unit for r in data["below"]])))
    return subject, "\n".join(lines)


def _remind_text(campaign: Campaign, period: Period, units: list[Unit]) -> tuple[str, str]:
    return (_("Reminder: %(name)s report for %(period)s", name=campaign.name, period=period.label),
            _("The cut-off (%(deadline)s) has passed and these units have not reported yet: %(units)s. "
              "Late reports are still accepted.", deadline=to_local(period.deadline).strftime("%d/%m/%Y %H:%M"),
              units=_unit_list(units)))


def _remind_before_text(campaign: Campaign, period: Period, units: list[Unit]) -> tuple[str, str]:
    return (_("Due soon: %(name)s report for %(period)s", name=campaign.name, period=period.label),
            _("The report for %(period)s is due by %(deadline)s and these units have not reported yet: "
              "%(units)s.", period=period.label, deadline=to_local(period.deadline).strftime("%d/%m/%Y %H:%M"),
              units=_unit_list(units)))


def _escalate_text(campaign: Campaign, period: Period, units: list[Unit]) -> tuple[str, str]:
    return (_("Escalation: %(n)d units have not reported for %(name)s (%(period)s)", n=len(units),
              name=campaign.name, period=period.label),
            _("Still missing %(delay)d minutes after the cut-off: %(units)s. Please follow up with them.",
              delay=campaign.escalation_minutes, units=_unit_list(units)))


def chase_missing(campaign: Campaign, period: Period, now: datetime, *, escalate: bool = False,
                  before: bool = False, task: ScheduledTask | None = None) -> list[Unit]:
    """Tell who should know which units have not reported for `period`; returns those units.

    Before the cut-off (`before`, while there is time) and at it (a reminder) the units' own hosts
    are told; a delay later (`escalate`) each area's hosts (the nearest unit above with hosts), or the
    operators. One notice per person, listing their units. The caller commits.
    """
    missing = _missing_units(campaign, period, now)
    by_unit = hosts_by_unit()
    who = area_hosts if escalate else unit_hosts
    text = _escalate_text if escalate else _remind_before_text if before else _remind_text
    for user, units in _group_by_recipient(missing, lambda u: who(u, by_unit)).values():
        subject, body = text(campaign, period, units)
        send_notice([user], subject, body, task=task, campaign_id=campaign.id)
    return missing


def send_period_summary(campaign: Campaign, period: Period, now: datetime, *,
                        task: ScheduledTask | None = None) -> None:
    """At a period's end: the period's completeness and the cumulative progress, to operators."""
    subject, body = summary_text(campaign, period, now)
    send_notice(operators(), subject, body, task=task, campaign_id=campaign.id)
