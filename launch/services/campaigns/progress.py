"""The dashboard's figures, computed from the stored reports: per unit, per district, totals, trend, ranking."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import Unit, User
from launch.models.campaigns import Campaign, CampaignMetric, ProgressReport, ProgressValue
from launch.services.campaigns.periods import Period, periods
from launch.services.campaigns.queries import primary_metric, targets, visible_unit_ids
from launch.services.campaigns.settings import area_words
from launch.services.teams import members_rolled_up


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


def pct(value: int, target: int | None) -> float | None:
    return round(100.0 * value / target, 1) if target else None


def _read_reports(campaign: Campaign, units: dict[int, Unit]) -> tuple[dict, dict, dict]:
    """(current version late? by (unit, period), current version by (unit, period),
    unit -> period -> {metric: value} of the current versions), for the visible units.

    The status follows the current version: a correction sent after the cut-off is "late", as its
    sender was told ("recorded as late"), and the figures it carries are the late ones.
    """
    late: dict[tuple[int, int], bool] = {}
    versions: dict[tuple[int, int], int] = {}
    for uid, pidx, version, is_late in db.session.execute(
        select(ProgressReport.unit_id, ProgressReport.period_index, ProgressReport.version, ProgressReport.is_late)
        .where(ProgressReport.campaign_id == campaign.id, ProgressReport.superseded_dt.is_(None))
    ).all():
        if uid in units:
            late[(uid, pidx)] = is_late
            versions[(uid, pidx)] = version
    by_period: dict[int, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for uid, pidx, mid, value in db.session.execute(
        select(ProgressReport.unit_id, ProgressReport.period_index, ProgressValue.metric_id, ProgressValue.value)
        .join(ProgressValue, ProgressValue.report_id == ProgressReport.id)
        .where(ProgressReport.campaign_id == campaign.id, ProgressReport.superseded_dt.is_(None))
    ).all():
        if uid in units:
            by_period[uid][pidx][mid] = value
    return late, versions, by_period


def _status(p: Period, reported: bool, late: bool, now: datetime) -> str:
    if reported:
        return "late" if late else "on_time"
    if p.start > now:
        return "upcoming"
    return "missing" if p.deadline <= now else "open"


def _unit_rows(campaign: Campaign, units: dict[int, Unit], all_periods: list[Period], pace_share: float,
               now: datetime) -> list[UnitProgress]:
    """One row per visible unit, by code: values, targets, status per period, pace against the primary metric."""
    metrics, primary = list(campaign.metrics), primary_metric(campaign)
    target_map = targets(campaign, list(units))
    members = members_rolled_up()
    late, versions, by_period = _read_reports(campaign, units)
    rows: list[UnitProgress] = []
    for uid, unit in sorted(units.items(), key=lambda kv: kv[1].code):
        statuses = {p.index: _status(p, (uid, p.index) in versions, late.get((uid, p.index), False), now)
                    for p in all_periods}
        values = {m.id: sum(v.get(m.id, 0) for v in by_period[uid].values()) for m in metrics}
        row = UnitProgress(unit=unit, members=members.get(uid, 0), values=values,
                           targets={m.id: target_map.get((uid, m.id)) for m in metrics}, statuses=statuses,
                           by_period={k: dict(v) for k, v in by_period[uid].items()},
                           versions={p: versions[(uid, p)] for p in range(len(all_periods)) if (uid, p) in versions})
        if primary is not None:
            target = row.targets.get(primary.id)
            row.pct = pct(values.get(primary.id, 0), target)
            if target:
                row.pace = math.ceil(target * pace_share)
                row.below = values.get(primary.id, 0) < row.pace
        rows.append(row)
    return rows


def _focus_counts(items: list[UnitProgress], focus: Period | None) -> dict[str, int]:
    counts = {"on_time": 0, "late": 0, "missing": 0, "open": 0, "upcoming": 0}
    if focus is not None:
        for r in items:
            counts[r.statuses[focus.index]] += 1
    counts["reported"] = counts["on_time"] + counts["late"]
    return counts


def _sum_targets(rows: list[UnitProgress], metric_id: int) -> int | None:
    """The rows' targets added up (None when none of them has one)."""
    if not any(r.targets[metric_id] is not None for r in rows):
        return None
    return sum(r.targets[metric_id] or 0 for r in rows)


def _groups(rows: list[UnitProgress], units: dict[int, Unit], parent_units: dict[int, Unit], metrics: list,
            primary: CampaignMetric | None, focus: Period | None) -> list[GroupProgress]:
    """Reporting units grouped by district (a district reporting unit is its own group), by code."""
    grouped: dict[int, list[UnitProgress]] = defaultdict(list)
    for r in rows:
        grouped[r.unit.id if r.unit.level == "district" else r.unit.parent_id].append(r)
    groups: list[GroupProgress] = []
    for gid, items in grouped.items():
        values = {m.id: sum(r.values[m.id] for r in items) for m in metrics}
        tvals = {m.id: _sum_targets(items, m.id) for m in metrics}
        group = GroupProgress(unit=units.get(gid) or parent_units.get(gid), units=items, values=values,
                              targets=tvals, focus=_focus_counts(items, focus), below=sum(1 for r in items if r.below))
        if primary is not None:
            group.pct = pct(values[primary.id], tvals[primary.id])
        groups.append(group)
    groups.sort(key=lambda g: g.unit.code)
    return groups


def _completeness(rows: list[UnitProgress], started: list[Period]) -> list[dict[str, Any]]:
    out = []
    for p in started:
        counts = {"on_time": 0, "late": 0, "missing": 0, "open": 0}
        for r in rows:
            status = r.statuses[p.index]
            if status in counts:
                counts[status] += 1
        out.append({"period": p, **counts, "reported": counts["on_time"] + counts["late"]})
    return out


def _trend(rows: list[UnitProgress], started: list[Period], n_periods: int, primary: CampaignMetric | None,
           total_target: int | None) -> dict[str, list]:
    """Per period and cumulative amounts of the primary metric, and the pace to meet its target."""
    per_period, cumulative, running = [], [], 0
    for p in started:
        amount = sum(r.by_period.get(p.index, {}).get(primary.id, 0) for r in rows) if primary else 0
        running += amount
        per_period.append(amount)
        cumulative.append(running)
    pace = [math.ceil(total_target * (p.index + 1) / n_periods) for p in started] if total_target else []
    return {"labels": [p.short_label for p in started], "per_period": per_period, "cumulative": cumulative,
            "pace": pace}


def _ranked(rows: list[UnitProgress], primary: CampaignMetric | None) -> list[UnitProgress]:
    ranked = [r for r in rows if primary is not None and (r.pct is not None or r.values[primary.id])]
    ranked.sort(key=lambda r: (-(r.pct if r.pct is not None else -1), -r.values[primary.id], r.unit.code))
    return ranked


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
    metrics, primary = list(campaign.metrics), primary_metric(campaign)
    rows = _unit_rows(campaign, units, all_periods, (len(due) / len(all_periods)) if all_periods else 0, now)
    groups = _groups(rows, units, parent_units, metrics, primary, focus)
    levels = {g.unit.level for g in groups if g.unit is not None}
    group_level = levels.pop() if len(levels) == 1 else ("area" if levels else None)
    total_values = {m.id: sum(r.values[m.id] for r in rows) for m in metrics}
    total_targets = {m.id: _sum_targets(rows, m.id) for m in metrics}
    return {
        "campaign": campaign, "now": now, "periods": all_periods, "started": started, "due": due, "focus": focus,
        "current": started[-1] if started else None, "metrics": metrics, "primary": primary,
        "units": rows, "groups": groups, "group_level": group_level, "group_words": area_words(group_level),
        "shown": [r for r in rows if district_id is None or district_id in (r.unit.parent_id, r.unit.id)],
        "district": parent_units.get(district_id) or units.get(district_id) if district_id else None,
        "totals": {"values": total_values, "targets": total_targets,
                   "pct": pct(total_values[primary.id], total_targets[primary.id]) if primary else None,
                   "focus": _focus_counts(rows, focus), "units": len(rows), "below": sum(1 for r in rows if r.below)},
        "completeness": _completeness(rows, started),
        "trend": _trend(rows, started, len(all_periods), primary,
                        total_targets.get(primary.id) if primary else None),
        "top": _ranked(rows, primary)[:5],
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
