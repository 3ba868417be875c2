"""Domain signals: what the services say happened, after their commit, to whoever listens.

As pretix does after a write: a service commits, then sends a signal; it never calls the real-time
layer itself. `launch.realtime` connects the wall publisher and the campaign dashboards to these
signals when the app starts (`init_realtime`), so the arrow runs from realtime down to here, and a
service that changes the wall imports nothing above it.

* ``wall_changed``: sender = the event id; keyword arguments ``kind`` (what changed, a word such as
  "site_checkin", "state", "absent"; informational), ``point_id`` (the event point whose tile
  changed, None when the event itself changed) and ``data`` (informational details, or None).
* ``campaign_changed``: sender = the campaign id (its reports, targets or state changed).

Send them AFTER the commit: a receiver reads the database. A receiver's failure must never undo
committed work, so receivers catch and log their own errors.
"""
from __future__ import annotations

from typing import Any

from blinker import Namespace

_signals = Namespace()

wall_changed = _signals.signal("wall-changed", doc="A tile or the state of an event's wall changed (after commit).")
campaign_changed = _signals.signal("campaign-changed", doc="A campaign's figures or state changed (after commit).")
sessions_ended = _signals.signal("sessions-ended", doc="A user's sessions ended (after commit).")
participants_changed = _signals.signal(
    "participants-changed", doc="Meeting participants waiting to be assigned to a point changed (after commit).")


def wall_change(event_id: int, kind: str, point_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Send `wall_changed` for `event_id` (call after the commit)."""
    wall_changed.send(int(event_id), kind=kind, point_id=point_id, data=data)


def campaign_change(campaign_id: int) -> None:
    """Send `campaign_changed` for `campaign_id` (call after the commit)."""
    campaign_changed.send(int(campaign_id))


def participants_change(event_id: int, items: list[dict[str, Any]]) -> None:
    """Say, after commit, which meeting participants of an event now wait to be assigned to a point."""
    participants_changed.send(int(event_id), items=items)


def sessions_end(user_id: int) -> None:
    """Say, after commit, that every session of a user ended, so their open sockets close everywhere."""
    sessions_ended.send(int(user_id))
