"""A campaign's settings form: every input checked, every problem listed (nothing saved on error)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from launch.clock import parse_local_dt, to_local
from launch.extensions import db
from launch.models import Event, Unit
from launch.models.campaigns import (
    REPORTING_LEVELS,
    RHYTHMS,
    TARGET_RULES,
    Campaign,
)
from launch.services import directory
from launch.services.campaigns.periods import cutoff_text, local_midnight
from launch.services.campaigns.queries import has_reports, reporting_districts
from launch.services.campaigns.settings import MAX_METRICS, MAX_VALUE
from launch.services.campaigns.templates import TEMPLATES
from launch.services.errors import FieldError, ValidationFailed
from launch.services.text import fold, small_int


def parse_int(value: Any) -> int | None:
    """An int given as such or as plain digits (a bool is not a number here), else None."""
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


class _Form:
    """A campaign form being checked: the input, what is clean so far, every problem in the form's order."""

    def __init__(self, data: dict[str, Any], campaign: Campaign | None = None) -> None:
        self.data, self.campaign = data, campaign
        self.clean: dict[str, Any] = {}
        self.errors: list[FieldError] = []

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def refuse(self, field: str, message: Any, code: str) -> None:
        self.errors.append(FieldError(code, message, field))

    def refused(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)


def _clean_text(form: _Form) -> None:
    name = " ".join(str(form.get("name") or "").split())
    if not name:
        form.refuse("name", _("The name is required."), "name_required")
    elif len(name) > 300:
        form.refuse("name", _("The name is longer than 300 characters."), "too_long")
    form.clean["name"] = name
    form.clean["description"] = (str(form.get("description") or "").strip() or None)
    if form.clean["description"] and len(form.clean["description"]) > 5000:
        form.refuse("description", _("The description is longer than 5000 characters."), "too_long")


def _anchored_dates(form: _Form) -> tuple[datetime | None, datetime | None]:
    """N whole local days from an event's start (the launch's date)."""
    event_id = parse_int(form.get("anchor_event_id"))
    event = db.session.get(Event, event_id) if event_id else None
    days = parse_int(form.get("anchor_days"))
    if event is None:
        form.refuse("anchor_event_id", _("Choose the launch event the campaign counts from."), "unknown_event")
    if days is None or not 1 <= days <= 366:
        form.refuse("anchor_days", _("The number of days must be from 1 to 366."), "bad_days")
    if event is None or days is None or not 1 <= days <= 366:
        return None, None
    form.clean["anchor_event_id"], form.clean["anchor_days"] = event.id, days
    return event.start_dt, local_midnight(to_local(event.start_dt).date() + timedelta(days=days))


def _clean_dates(form: _Form) -> None:
    """Dates: explicit, or N days from an event's start."""
    form.clean["anchor_event_id"] = form.clean["anchor_days"] = None
    if form.get("date_mode") == "anchor":
        start, end = _anchored_dates(form)
    else:
        start, end = parse_local_dt(form.get("start")), parse_local_dt(form.get("end"))
        if start is None:
            form.refuse("start", _("Give the start date and time."), "bad_start")
        if end is None:
            form.refuse("end", _("Give the end date and time."), "bad_end")
    if start is not None and end is not None:
        if end <= start:
            form.refuse("end", _("The campaign must end after it starts."), "end_before_start")
        elif end - start > timedelta(days=366):
            form.refuse("end", _("A campaign lasts at most 366 days."), "too_long")
    form.clean["start_dt"], form.clean["end_dt"] = start, end


def _clean_rhythm(form: _Form) -> None:
    rhythm = form.get("rhythm")
    if rhythm not in RHYTHMS:
        form.refuse("rhythm", _("Choose daily or weekly reporting."), "bad_rhythm")
    form.clean["rhythm"] = rhythm
    cutoff = _parse_cutoff(form.get("cutoff"))
    if cutoff is None:
        form.refuse("cutoff", _("The cut-off must be a time of day such as 17:00."), "bad_cutoff")
    form.clean["cutoff_minutes"] = cutoff
    escalation = parse_int(form.get("escalation_minutes"))
    if escalation is None or not 0 <= escalation <= 7 * 24 * 60:
        form.refuse("escalation_minutes",
                    _("The escalation delay must be from 0 to 10080 minutes (0: no escalation)."), "bad_escalation")
    form.clean["escalation_minutes"] = escalation


def _campaign_map(form: _Form, areas: list[Unit]) -> str:
    """The map the reporting units are on: the chosen areas', else the campaign's own (an edit),
    else the map of the launch it counts from, else the newest."""
    if areas:
        return areas[0].edition
    if form.campaign is not None and form.campaign.units:
        return form.campaign.units[0].unit.edition
    event = db.session.get(Event, form.clean["anchor_event_id"]) if form.clean.get("anchor_event_id") else None
    return (event.edition if event is not None else None) or directory.default_edition()


def _clean_units(form: _Form) -> None:
    """The reporting units: every unit of the level under the chosen areas (a district, a province;
    none chosen: the whole map), on one map."""
    level = form.get("reporting_level")
    if level not in REPORTING_LEVELS:
        form.refuse("reporting_level", _("Choose communes or districts as reporting units."), "bad_level")
    area_ids = sorted({i for i in (parse_int(x) for x in (form.get("district_ids") or [])) if i})
    areas = list(db.session.scalars(select(Unit).where(Unit.id.in_(area_ids), Unit.level != "commune")
                                    .order_by(Unit.code))) if area_ids else []
    if len(areas) != len(area_ids):
        form.refuse("district_ids", _("Choose areas from the list."), "bad_district")
    edition = _campaign_map(form, areas)
    if any(a.edition != edition for a in areas):
        form.refuse("district_ids", _("Choose areas of one map."), "other_map")
    form.clean["reporting_level"] = level
    form.clean["unit_ids"] = []
    if level in REPORTING_LEVELS and not form.refused("district_ids"):
        if areas:
            under = {u.id: u for a in areas for u in (a, *directory.units_under(a))}
            form.clean["unit_ids"] = [u.id for u in sorted(under.values(), key=lambda u: u.code) if u.level == level]
        else:
            form.clean["unit_ids"] = list(db.session.scalars(
                select(Unit.id).where(Unit.level == level, Unit.edition == edition).order_by(Unit.code)))
        if not form.clean["unit_ids"]:
            form.refuse("district_ids", _("No unit would report for this campaign."), "no_units")


def _clean_metric(form: _Form, i: int, raw: dict[str, Any], keys: set[str]) -> dict[str, Any] | None:
    field = f"metric-{i}"
    label = " ".join(str(raw.get("label") or "").split())
    rule = raw.get("target_rule") or "none"
    value = parse_int(raw.get("target_value"))
    if not label:
        if raw.get("target_value") not in (None, ""):
            form.refuse(field, _("Metric %(n)d: give its name.", n=i + 1), "metric_label")
        return None
    if len(label) > 200:
        form.refuse(field, _("Metric %(n)d: the name is too long.", n=i + 1), "too_long")
    key = metric_key(raw.get("key") or label)
    if key in keys:
        form.refuse(field, _("Metric %(n)d is listed twice.", n=i + 1), "duplicate_metric")
    keys.add(key)
    if rule not in TARGET_RULES:
        form.refuse(field, _("Metric %(n)d: unknown target rule.", n=i + 1), "bad_rule")
    elif rule == "none":
        value = None
    elif value is None or value <= 0 or value > MAX_VALUE:
        form.refuse(field, _("Metric %(n)d: the target must be a whole number above 0 (a fixed number, or N per "
                             "member).", n=i + 1), "bad_target")
    return {"key": key, "label": label, "target_rule": rule, "target_value": value}


def _clean_metrics(form: _Form) -> None:
    keys: set[str] = set()
    metrics = [m for i, raw in enumerate(form.get("metrics") or []) if (m := _clean_metric(form, i, raw, keys))]
    if not metrics:
        form.refuse("metrics", _("Give at least one metric to report."), "no_metrics")
    elif len(metrics) > MAX_METRICS:
        form.refuse("metrics", _("At most %(n)d metrics.", n=MAX_METRICS), "too_many_metrics")
    form.clean["metrics"] = metrics


def _check_locked(form: _Form, campaign: Campaign) -> None:
    """Once reports are in, what they were made against stays: dates, rhythm, cut-off, metrics, units."""
    clean = form.clean
    fixed = {"start_dt": campaign.start_dt, "end_dt": campaign.end_dt, "rhythm": campaign.rhythm,
             "cutoff_minutes": campaign.cutoff_minutes, "reporting_level": campaign.reporting_level}
    if any(clean[k] != v for k, v in fixed.items()) or \
            [m["key"] for m in clean["metrics"]] != [m.key for m in campaign.metrics] or \
            set(clean["unit_ids"]) != {cu.unit_id for cu in campaign.units}:
        form.refuse("start", _("Reports are in: the dates, rhythm, cut-off, metrics and units can no longer "
                               "change (names and targets can)."), "periods_locked")


def validate_campaign(data: dict[str, Any], *, campaign: Campaign | None = None) -> dict[str, Any]:
    """Check a campaign's settings; return clean values or raise ValidationFailed listing every problem."""
    form = _Form(data, campaign)
    form.clean["template"] = data.get("template") if data.get("template") in TEMPLATES else None
    for step in (_clean_text, _clean_dates, _clean_rhythm, _clean_units, _clean_metrics):
        step(form)
    if campaign is not None and not form.errors and has_reports(campaign):
        _check_locked(form, campaign)
    if form.errors:
        raise ValidationFailed("invalid_campaign", _("The campaign was not saved. Fix these problems:"),
                               errors=form.errors)
    return form.clean


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
