"""Reading campaigns: one campaign, the ones a user may see, the units they see, targets, report history."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.campaigns import (
    Campaign,
    CampaignMetric,
    CampaignUnit,
    ProgressReport,
    TargetOverride,
)
from launch.services.access import can_act_for, can_read_all, scoped_unit_ids
from launch.services.errors import Forbidden, NotFound
from launch.services.teams import members_rolled_up


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("unknown_campaign", _("This campaign does not exist."))
    return campaign


def campaigns_for(user: User):  # noqa: ANN201
    """A SELECT of the campaigns `user` may see, newest start first."""
    stmt = select(Campaign)
    if not can_read_all(user):
        scope = scoped_unit_ids(user) or set()
        stmt = stmt.where(Campaign.id.in_(select(CampaignUnit.campaign_id).where(
            CampaignUnit.unit_id.in_(scope or {-1}))))
    return stmt.order_by(Campaign.start_dt.desc(), Campaign.id.desc())


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


def has_reports(campaign: Campaign) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(ProgressReport)
                                  .where(ProgressReport.campaign_id == campaign.id)))


def reporting_districts(campaign: Campaign) -> set[int]:
    """The areas the campaign's units are in (a district, a province at a national campaign; empty:
    every unit of its level on its map)."""
    unit_ids = {cu.unit_id for cu in campaign.units}
    if not unit_ids:
        return set()
    edition = campaign.units[0].unit.edition
    every = set(db.session.scalars(select(Unit.id).where(Unit.level == campaign.reporting_level,
                                                         Unit.edition == edition)))
    if unit_ids == every:
        return set()
    return {u.id if u.level == "district" else u.parent_id for u in (cu.unit for cu in campaign.units)}


def primary_metric(campaign: Campaign) -> CampaignMetric | None:
    """The metric the dashboard ranks by: the first with a target, else the first."""
    with_target = [m for m in campaign.metrics if m.target_rule != "none"]
    return (with_target or campaign.metrics or [None])[0]


def rule_target(metric: CampaignMetric, members: int) -> int | None:
    """A unit's target by its metric's rule alone: the fixed number, or its team members x N (None: no target)."""
    if metric.target_rule == "fixed":
        return metric.target_value
    if metric.target_rule == "per_member":
        return members * (metric.target_value or 0)
    return None


def target_overrides(campaign: Campaign) -> dict[tuple[int, int], int]:
    """(unit_id, metric_id) -> the target an operator set instead of the rule's."""
    return {(o.unit_id, o.metric_id): o.target for o in
            db.session.scalars(select(TargetOverride).where(TargetOverride.campaign_id == campaign.id))}


def targets(campaign: Campaign, unit_ids: list[int] | None = None) -> dict[tuple[int, int], int | None]:
    """(unit_id, metric_id) -> the unit's target over the whole campaign: its override, else its rule's."""
    unit_ids = unit_ids if unit_ids is not None else [cu.unit_id for cu in campaign.units]
    members = members_rolled_up() if any(m.target_rule == "per_member" for m in campaign.metrics) else {}
    overrides = target_overrides(campaign)
    return {(uid, m.id): overrides[(uid, m.id)] if (uid, m.id) in overrides else rule_target(m, members.get(uid, 0))
            for uid in unit_ids for m in campaign.metrics}


def target_sheet(campaign: Campaign, units: list[Unit], metrics: list[CampaignMetric]) -> dict[str, Any]:
    """What the targets page shows for `units`: each rule's target, the overrides, the team members."""
    members = members_rolled_up()
    return {"rule_targets": {(u.id, m.id): rule_target(m, members.get(u.id, 0)) for u in units for m in metrics},
            "overrides": target_overrides(campaign), "members": members}


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


def reporting_units_of(campaign: Campaign, user: User) -> list[Unit]:
    """The campaign's reporting units `user` may report for, by code."""
    return sorted((cu.unit for cu in campaign.units if can_act_for(user, cu.unit_id)), key=lambda u: u.code)
