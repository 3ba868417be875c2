"""A campaign's life: its scheduled tasks, moving with its launch, cancelling, opening and closing.

Saving a campaign plans its tasks (rows run by the scheduler, see `launch.jobs.campaign_tasks`):
open at the start, a reminder before each period's cut-off (`CAMPAIGN_REMIND_BEFORE_MINUTES`) and
one at the cut-off, an escalation a delay later, a summary at each period's end, and the close
(with the final summary) at the end. Only future tasks are planned:
a campaign made late sends no backlog.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from launch.clock import iso, to_local, utcnow
from launch.extensions import db
from launch.models import Event, ScheduledTask, User
from launch.models.campaigns import (
    Campaign,
)
from launch.services import audit
from launch.services.campaigns.notices import summary_text
from launch.services.campaigns.periods import cutoff_text, last_day, local_midnight, periods
from launch.services.campaigns.settings import RHYTHM_LABELS
from launch.services.notifications import send_notice
from launch.services.recipients import hosts_by_unit, operators, unit_hosts
from launch.services.scheduling import schedule_task
from launch.signals import campaign_change


def state_at(clean: dict[str, Any], now: datetime) -> str:
    if now < clean["start_dt"]:
        return "scheduled"
    return "open" if now < clean["end_dt"] else "closed"


def schedule_tasks(campaign: Campaign, now: datetime) -> None:
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
    before = timedelta(minutes=current_app.config.get("CAMPAIGN_REMIND_BEFORE_MINUTES") or 0)
    all_periods = periods(campaign)
    for period in all_periods:
        payload = {"period": period.index}
        # Before the cut-off, while there is time to report; never before the period starts.
        if before and period.deadline - before > max(now, period.start):
            schedule_task("campaign.remind_before", period.deadline - before, campaign_id=campaign.id,
                          payload=payload)
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
        end = local_midnight(to_local(event.start_dt).date() + timedelta(days=campaign.anchor_days or 1))
        if (campaign.start_dt, campaign.end_dt) == (start, end):
            continue
        old = f"{to_local(campaign.start_dt):%d/%m/%Y %H:%M} - {to_local(campaign.end_dt):%d/%m/%Y %H:%M}"
        campaign.start_dt, campaign.end_dt = start, end
        state = state_at({"start_dt": start, "end_dt": end}, now)
        if campaign.state != state:
            campaign.state, campaign.state_changed_dt = state, now
        db.session.flush()
        schedule_tasks(campaign, now)
        audit.record("campaign.moved", f"campaign {campaign.name}: {old} -> "
                     f"{to_local(start):%d/%m/%Y %H:%M} - {to_local(end):%d/%m/%Y %H:%M} (its launch moved)",
                     user=actor, target=campaign,
                     details={"event_id": event.id, "start": iso(start), "end": iso(end)})
        moved.append(campaign)
    return moved


def cancel_campaign(campaign: Campaign, *, actor: User | None = None, now: datetime | None = None) -> None:
    """Stop a campaign: its pending tasks are cancelled; reports stay readable."""
    now = now or utcnow()
    if campaign.state == "cancelled":
        return
    campaign.state, campaign.state_changed_dt = "cancelled", now
    schedule_tasks(campaign, now)
    audit.record("campaign.cancelled", f"campaign {campaign.name} cancelled", user=actor, target=campaign)
    db.session.commit()


def open_campaign(campaign: Campaign, now: datetime, *, task: ScheduledTask | None = None) -> list:
    """Open the campaign and tell the reporting units' hosts how to report.

    The caller commits; returns the announcements to make after the commit.
    """
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
    campaign_id = campaign.id
    return [lambda: campaign_change(campaign_id)]


def close_campaign(campaign: Campaign, now: datetime, *, task: ScheduledTask | None = None) -> list:
    """Close the campaign and send operators the final summary.

    The caller commits; returns the announcements to make after the commit.
    """
    campaign.state, campaign.state_changed_dt = "closed", now
    audit.record("campaign.closed", f"campaign {campaign.name} closed", actor="system", target=campaign)
    all_periods = periods(campaign)
    subject, body = summary_text(campaign, all_periods[-1] if all_periods else None, now, final=True)
    send_notice(operators(), subject, body, task=task, campaign_id=campaign.id)
    campaign_id = campaign.id
    return [lambda: campaign_change(campaign_id)]
