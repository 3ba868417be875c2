"""A campaign's limits and the words its pages show for states, rhythms, levels, rules and statuses."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

MAX_PERIODS = 400
MAX_VALUE = 1_000_000
MAX_METRICS = 6
STATE_LABELS = {
    "scheduled": _l("Scheduled"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
RHYTHM_LABELS = {"daily": _l("Daily"), "weekly": _l("Weekly")}
LEVEL_LABELS = {"commune": _l("Communes"), "district": _l("Districts")}
RULE_LABELS = {"none": _l("No target"), "fixed": _l("Fixed number per unit"),
               "per_member": _l("Team members x N")}
STATUS_LABELS = {
    "on_time": _l("Reported on time"),
    "late": _l("Reported late"),
    "missing": _l("Not reported"),
    "open": _l("Not yet due"),
    "upcoming": _l("Not started"),
}
