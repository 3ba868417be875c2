"""The lifecycle of an event: its states, their order, and the moves an operator may make.

draft -> scheduled -> testing (connection-test window) -> live -> ended; or cancelled.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from launch.models import Event

STATE_LABELS = {
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "testing": _l("Connection test"),
    "live": _l("Live"),
    "ended": _l("Ended"),
    "cancelled": _l("Cancelled"),
}
#: Forward order of the lifecycle (cancelled is off the line).
STATE_ORDER = {"draft": 0, "scheduled": 1, "testing": 2, "live": 3, "ended": 4}
TERMINAL_STATES = ("ended", "cancelled")
#: Moves an operator may make by hand (cancelling has its own action, with a reason).
MANUAL_MOVES = {"draft": ("scheduled",), "scheduled": ("testing", "live"), "testing": ("live",), "live": ("ended",)}
TASK_LABELS = {
    "event.state": _l("State change"),
    "event.readiness": _l("Readiness check"),
    "event.reminder": _l("Reminder"),
    "event.absence": _l("Absence check"),
}


def may_advance(event: Event, to: str) -> bool:
    """Whether the event's clock may move it on to `to` (never backwards; draft, ended, cancelled stay)."""
    if to not in STATE_ORDER or event.state in ("draft", *TERMINAL_STATES):
        return False
    return STATE_ORDER[to] > STATE_ORDER[event.state]
