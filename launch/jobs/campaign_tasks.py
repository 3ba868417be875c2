"""What runs at a campaign's task times (see `launch.jobs.tasks.HANDLERS`).

Each handler reads its task, checks the campaign still wants the work, and calls the campaigns
service; it never commits nor publishes (the runner commits, then calls what it returns).

- `campaign.open` / `campaign.close`: at its start and end (the close sends the final summary);
- `campaign.remind_before` {"period"}: before a period's cut-off, the hosts of units not yet reported;
- `campaign.remind` {"period"}: at a period's cut-off, the hosts of units that have not reported;
- `campaign.escalate` {"period"}: a delay later, each district's hosts (or the operators);
- `campaign.summary` {"period"}: at a period's end, the figures to the operators.

A task of a cancelled (or deleted) campaign ends `cancelled`.
"""
from __future__ import annotations

from datetime import datetime

from launch.extensions import db
from launch.models import Campaign, ScheduledTask
from launch.services import campaigns
from launch.services.campaigns import Period
from launch.services.scheduling import task_note


def _campaign(task: ScheduledTask) -> Campaign | None:
    campaign = db.session.get(Campaign, task.campaign_id) if task.campaign_id else None
    if campaign is None or campaign.state == "cancelled":
        task.status, task.last_error = "cancelled", task_note("campaign_cancelled")
        return None
    return campaign


def _period(task: ScheduledTask) -> tuple[Campaign | None, Period | None]:
    campaign = _campaign(task)
    if campaign is None:
        return None, None
    index = (task.payload or {}).get("period")
    all_periods = campaigns.periods(campaign)
    period = all_periods[index] if isinstance(index, int) and 0 <= index < len(all_periods) else None
    return campaign, period


def run_open(task: ScheduledTask, now: datetime) -> list:
    """Open the campaign and tell the reporting units' hosts how to report."""
    campaign = _campaign(task)
    if campaign is None or campaign.state != "scheduled":
        return []
    return campaigns.open_campaign(campaign, now, task=task)


def run_close(task: ScheduledTask, now: datetime) -> list:
    """Close the campaign and send operators the final summary."""
    campaign = _campaign(task)
    if campaign is None or campaign.state == "closed":
        return []
    return campaigns.close_campaign(campaign, now, task=task)


def _chase(task: ScheduledTask, now: datetime, *, escalate: bool = False, before: bool = False) -> list:
    campaign, period = _period(task)
    if period is None:
        return []
    missing = campaigns.chase_missing(campaign, period, now, escalate=escalate, before=before, task=task)
    task.payload = {**(task.payload or {}), "missing": [u.code for u in missing]}
    return []


def run_remind_before(task: ScheduledTask, now: datetime) -> list:
    """Before a period's cut-off: remind the hosts of every unit that has not reported yet."""
    return _chase(task, now, before=True)


def run_remind(task: ScheduledTask, now: datetime) -> list:
    """At a period's cut-off: remind the hosts of every unit that has not reported."""
    return _chase(task, now, escalate=False)


def run_escalate(task: ScheduledTask, now: datetime) -> list:
    """A delay after the cut-off: tell each district's hosts (or operators) which units are still missing."""
    return _chase(task, now, escalate=True)


def run_summary(task: ScheduledTask, now: datetime) -> list:
    """At a period's end: the period's completeness and the cumulative progress, to operators."""
    campaign, period = _period(task)
    if period is None:
        return []
    campaigns.send_period_summary(campaign, period, now, task=task)
    return []
