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

#: The dashboard's and exports' words for the groups of reporting units, after the map: districts
#: (2023), provinces (a national campaign), areas (a mix).
AREA_WORDS = {
    "district": {"per": _l("Progress per district"), "label": _l("District"), "back": _l("Back to all districts"),
                 "choose": _l("Choose a district above to see its units, or filter the units below target or "
                              "not reported.")},
    "province": {"per": _l("Progress per province"), "label": _l("Province"), "back": _l("Back to all provinces"),
                 "choose": _l("Choose a province above to see its units, or filter the units below target or "
                              "not reported.")},
    "area": {"per": _l("Progress per area"), "label": _l("Area"), "back": _l("Back to all areas"),
             "choose": _l("Choose an area above to see its units, or filter the units below target or not "
                          "reported.")},
}


def area_words(level: str | None) -> dict:
    """The words for groups of `level` (district, province; anything else: area)."""
    return AREA_WORDS.get(level or "", AREA_WORDS["area"])
