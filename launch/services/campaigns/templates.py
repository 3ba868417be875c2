"""The follow-up campaigns the launch article names, as templates the creation form starts from."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from launch.clock import to_local, utcnow
from launch.extensions import db
from launch.models import Event, Unit
from launch.services.errors import NotFound

#: The follow-up campaigns the article names. Labels are translated when the form is filled in.
TEMPLATES: dict[str, dict[str, Any]] = {
    "seven_in_seven": {
        "title": _l("7 residents in 7 days"),
        "description": _l("Within 7 days of the launch, every member of each community digital-technology "
                          "team guides at least 7 residents in using digital platforms (online public "
                          "services, cashless payments)."),
        "date_mode": "anchor",
        "anchor_days": 7,
        "rhythm": "daily",
        "cutoff": "17:00",
        "escalation_minutes": 120,
        "reporting_level": "commune",
        "district_codes": [],
        "metrics": [
            {"key": "residents_guided", "label": _l("Residents guided"), "target_rule": "per_member",
             "target_value": 7},
            {"key": "online_applications", "label": _l("Online public service applications submitted"),
             "target_rule": "none", "target_value": None},
            {"key": "cashless_accounts", "label": _l("Cashless payment accounts opened"),
             "target_rule": "none", "target_value": None},
        ],
    },
    "peak_30_days": {
        "title": _l("30-day peak plan (Mộ Đức)"),
        "description": _l("Mộ Đức's 30-day peak plan (in 2023 from 5 August to 5 September): push online "
                          "public service applications in every commune."),
        "date_mode": "dates",
        # Whole local days from the launch's date (today, once the launch is past): 5/8 - 5/9 in 2023.
        "days": 32,
        "rhythm": "weekly",
        "cutoff": "16:00",
        "escalation_minutes": 240,
        "reporting_level": "commune",
        "district_codes": ["533"],
        "metrics": [
            {"key": "online_applications", "label": _l("Online public service applications submitted"),
             "target_rule": "fixed", "target_value": 300},
            {"key": "residents_guided", "label": _l("Residents guided"), "target_rule": "none",
             "target_value": None},
        ],
    },
}


def template_defaults(key: str, now: datetime | None = None) -> dict[str, Any]:
    """The creation form's values for a template, translated into the current language."""
    spec = TEMPLATES.get(key)
    if spec is None:
        raise NotFound("unknown_template", _("This campaign template does not exist."))
    data: dict[str, Any] = {
        "template": key, "name": str(spec["title"]), "description": str(spec["description"]),
        "date_mode": spec["date_mode"], "rhythm": spec["rhythm"], "cutoff": spec["cutoff"],
        "escalation_minutes": spec["escalation_minutes"], "reporting_level": spec["reporting_level"],
        "district_ids": [u.id for u in db.session.scalars(select(Unit).where(Unit.code.in_(spec["district_codes"])))],
        "metrics": [{"key": m["key"], "label": str(m["label"]), "target_rule": m["target_rule"],
                     "target_value": m["target_value"]} for m in spec["metrics"]],
    }
    if spec["date_mode"] == "anchor":
        data["anchor_days"] = spec["anchor_days"]
        event = launch_event()
        data["anchor_event_id"] = event.id if event else None
    else:
        data["start"], data["end"] = relative_dates(spec["days"], now)
    return data


def relative_dates(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """`days` whole local days (naive local times, as the form shows them) from the launch's date, or
    from today once the launch is past: a template never pre-fills a period that is already over."""
    today = to_local(now or utcnow()).date()
    event = launch_event()
    launch_day = to_local(event.start_dt).date() if event is not None else None
    first = launch_day if launch_day is not None and launch_day > today else today
    return datetime.combine(first, time(0)), datetime.combine(first + timedelta(days=days), time(0))


def launch_event() -> Event | None:
    """The launch event campaigns anchor to by default: the first event by start."""
    return db.session.scalar(select(Event).where(Event.state != "cancelled").order_by(Event.start_dt).limit(1))
