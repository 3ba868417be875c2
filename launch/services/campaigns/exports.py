"""Exports of a campaign: results (one row per unit) and reporting status (per unit per period), CSV or XLSX."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.campaigns import (
    Campaign,
    ProgressReport,
)
from launch.services import exports as writer
from launch.services.campaigns.progress import pct, progress
from launch.services.campaigns.settings import STATUS_LABELS
from launch.services.errors import NotFound


def export_rows(campaign: Campaign, kind: str, *, user: User | None = None, now: datetime | None = None
                ) -> tuple[list[str], list[list[Any]]]:
    """(headings, rows) for `kind` = results (one row per unit) or status (one row per unit per period)."""
    data = progress(campaign, user=user, now=now)
    metrics = data["metrics"]
    parent_names = {g.unit.id: g.unit.name for g in data["groups"]}
    # The group column follows the map; one province alone (a two-level province's campaign) has none.
    grouped = not (data["group_level"] == "province" and len(data["groups"]) == 1) and data["groups"]
    group_heading = [str(data["group_words"]["label"])] if grouped else []

    def district_of(unit: Unit) -> list[str]:
        if not grouped:
            return []
        return [unit.name if unit.level == "district" else parent_names.get(unit.parent_id, "")]

    if kind == "results":
        headings = [*group_heading, _("Unit code"), _("Unit"), _("Team members")]
        for m in metrics:
            headings += [m.label, _("%(metric)s: target", metric=m.label), _("%(metric)s: %% of target",
                                                                              metric=m.label)]
        headings += [_("Reports on time"), _("Reports late"), _("Reports missing")]
        rows = []
        for r in data["units"]:
            counts = r.status_counts()
            row: list[Any] = [*district_of(r.unit), r.unit.code, r.unit.name, r.members]
            for m in metrics:
                row += [r.values[m.id], r.targets[m.id], pct(r.values[m.id], r.targets[m.id])]
            row += [counts.get("on_time", 0), counts.get("late", 0), counts.get("missing", 0)]
            rows.append(row)
        return headings, rows
    if kind != "status":
        raise NotFound("unknown_export", _("This export does not exist."))
    headings = [_("Period"), _("Cut-off"), *group_heading, _("Unit code"), _("Unit"), _("Status"), _("Reported at"),
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
            rows.append([p.label, p.deadline, *district_of(r.unit), r.unit.code,
                         r.unit.name, str(STATUS_LABELS[r.statuses[p.index]]),
                         rep.reported_dt if rep else "",
                         (rep.reported_by.display_name if rep and rep.reported_by else ""),
                         rep.version if rep else ""]
                        + [values.get(m.id, "") if rep else "" for m in metrics])
    return headings, rows


def export_csv(campaign: Campaign, kind: str, **kwargs: Any) -> str:
    """The export as CSV text (UTF-8 with BOM added by the view, for Excel); written by `exports`."""
    headings, rows = export_rows(campaign, kind, **kwargs)
    return writer.csv_text(headings, rows)


def export_xlsx(campaign: Campaign, kind: str, **kwargs: Any) -> bytes:
    """The export as an Excel workbook; written by `exports` (formula-safe text, real date-times)."""
    headings, rows = export_rows(campaign, kind, **kwargs)
    title = _("Results") if kind == "results" else _("Reporting status")
    return writer.xlsx_bytes([writer.Sheet(title, headings, rows)])
