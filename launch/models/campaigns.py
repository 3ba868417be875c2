"""Follow-up campaigns: campaigns, their metrics, targets and progress reports (teams: `teams`).

Nothing derived is stored: a unit's target comes from its campaign's rule (and its teams' member
counts, or an override), its progress from the current versions of its reports.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from launch.clock import utcnow
from launch.extensions import db
from launch.models.types import UTCDateTime
from launch.models.units import Unit
from launch.models.users import User

#: Lifecycle: scheduled (before the start) -> open -> closed; or cancelled.
CAMPAIGN_STATES = ("scheduled", "open", "closed", "cancelled")
RHYTHMS = ("daily", "weekly")
REPORTING_LEVELS = ("commune", "district")
#: none: no target; fixed: the same number for every unit; per_member: team members x N.
TARGET_RULES = ("none", "fixed", "per_member")


class Campaign(db.Model):
    """A follow-up campaign with targets per unit (7 residents in 7 days, the 30-day peak plan, ...)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    description: Mapped[str | None] = mapped_column(Text)
    #: The template it was made from (`seven_in_seven`, `peak_30_days`) or None.
    template: Mapped[str | None] = mapped_column(String(32))
    start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "N days from the launch of event X": the dates were computed from this event's start.
    anchor_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    anchor_days: Mapped[int | None] = mapped_column(Integer)
    rhythm: Mapped[str] = mapped_column(String(16), default="daily")
    #: Local (Asia/Ho_Chi_Minh) cut-off on each period's last day, minutes after midnight.
    cutoff_minutes: Mapped[int] = mapped_column(Integer, default=17 * 60)
    #: Minutes after the cut-off after which units still missing are escalated to their district.
    escalation_minutes: Mapped[int] = mapped_column(Integer, default=120)
    reporting_level: Mapped[str] = mapped_column(String(16), default="commune")
    state: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    state_changed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    metrics: Mapped[list[CampaignMetric]] = relationship(
        back_populates="campaign", order_by="CampaignMetric.position", cascade="all, delete-orphan"
    )
    units: Mapped[list[CampaignUnit]] = relationship(back_populates="campaign", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship()


class CampaignMetric(db.Model):
    """A number reported per unit per period (residents guided, online applications, ...), with its target rule."""

    __tablename__ = "campaign_metrics"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    #: Stable machine name for exports and the API, e.g. `residents_guided`.
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    target_rule: Mapped[str] = mapped_column(String(16), default="none")
    #: The fixed number, or N per team member.
    target_value: Mapped[int | None] = mapped_column(Integer)

    campaign: Mapped[Campaign] = relationship(back_populates="metrics")


class CampaignUnit(db.Model):
    """A unit that reports for a campaign."""

    __tablename__ = "campaign_units"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class TargetOverride(db.Model):
    """An operator's target for one unit and metric, replacing the rule's number."""

    __tablename__ = "campaign_target_overrides"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "metric_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("campaign_metrics.id", ondelete="CASCADE"))
    target: Mapped[int] = mapped_column(Integer)


class ProgressReport(db.Model):
    """One unit's numbers for one period. A correction adds a new version and supersedes the old one,
    so the history stays; the current version is the one with `superseded_dt` empty."""

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "period_index", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: 0-based index of the period (see launch.services.campaigns.periods).
    period_index: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    reported_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Sent after the period's cut-off.
    is_late: Mapped[bool] = mapped_column(default=False)
    superseded_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))

    unit: Mapped[Unit] = relationship()
    reported_by: Mapped[User | None] = relationship()
    values: Mapped[list[ProgressValue]] = relationship(back_populates="report", cascade="all, delete-orphan")


class ProgressValue(db.Model):
    """One metric's number in a progress report."""

    __tablename__ = "progress_values"
    __table_args__ = (UniqueConstraint("report_id", "metric_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"), index=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("campaign_metrics.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)

    report: Mapped[ProgressReport] = relationship(back_populates="values")
    metric: Mapped[CampaignMetric] = relationship()
