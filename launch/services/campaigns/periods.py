"""Reporting periods: calendar days (daily) or 7-day blocks (weekly) in local time, each due at the cut-off."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from launch.clock import LOCAL_TZ, to_local
from launch.models.campaigns import (
    Campaign,
)
from launch.services.campaigns.settings import MAX_PERIODS


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


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def compute_periods(start: datetime, end: datetime, rhythm: str, cutoff_minutes: int) -> list[Period]:
    """Calendar days (daily) or 7-day blocks from the start's local date (weekly), clipped to the
    campaign; each is due on its last local day at the cut-off (or at its end, if the cut-off falls
    before a partial first day starts)."""
    step = 7 if rhythm == "weekly" else 1
    out: list[Period] = []
    day = to_local(start).date()
    while len(out) <= MAX_PERIODS:
        p_start = max(start, local_midnight(day))
        if p_start >= end:
            break
        p_end = min(end, local_midnight(day + timedelta(days=step)))
        last_day = to_local(p_end - timedelta(microseconds=1)).date()
        deadline = local_midnight(last_day) + timedelta(minutes=cutoff_minutes)
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


def cutoff_text(campaign: Campaign) -> str:
    return f"{campaign.cutoff_minutes // 60:02d}:{campaign.cutoff_minutes % 60:02d}"


def last_day(campaign: Campaign) -> date | None:
    """The campaign's last local day (its end is exclusive)."""
    return to_local(campaign.end_dt - timedelta(microseconds=1)).date() if campaign.end_dt else None


def started_periods(campaign: Campaign, now: datetime) -> list[Period]:
    """The periods that have started by `now` (reports may be sent for them)."""
    return [p for p in periods(campaign) if p.start <= now]
