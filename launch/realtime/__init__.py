"""Real-time: the one publisher of wall updates, and the thin Socket.IO handlers.

The services never call in here: they send domain signals (`launch.signals`) after their commit,
and `init_realtime` connects the publisher to them.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from launch.signals import campaign_changed, participants_changed, sessions_ended, wall_changed

log = logging.getLogger(__name__)


def on_wall_changed(event_id: int, *, kind: str, point_id: int | None = None,
                    data: dict[str, Any] | None = None) -> None:
    """`wall_changed` -> the wall publisher; a failure is logged, never raised into the service."""
    import launch.realtime.publisher as publisher

    try:
        publisher.announce(event_id, kind, point_id, data)
    except Exception:  # a recorded check-in must not be undone by a wall update
        log.exception("announce %s of event %s failed", kind, event_id)


def on_campaign_changed(campaign_id: int) -> None:
    """`campaign_changed` -> the campaign's dashboards are told to refresh."""
    import launch.realtime.publisher as publisher

    publisher.campaign_updated(campaign_id)


def on_participants_changed(event_id: int, *, items: list[dict[str, Any]]) -> None:
    """`participants_changed` -> the event's whole wall gets the list of participants to assign."""
    import launch.realtime.publisher as publisher

    publisher.participants_changed(event_id, items)


def on_sessions_ended(user_id: int) -> None:
    """`sessions_ended` -> that user's sockets are closed on whichever process holds them."""
    from launch.realtime.sessions import close_user_sockets

    close_user_sockets(user_id)


def init_realtime(app: Flask) -> None:
    """Bind the Socket.IO handlers to this app's server and connect the publisher to the domain signals.

    The receivers are module functions, connected once (blinker ignores a second connect of the
    same receiver); they act in the sender's app context, so they serve every app of the process.
    """
    import launch.realtime.handlers as handlers

    handlers.register()
    wall_changed.connect(on_wall_changed, weak=False)
    campaign_changed.connect(on_campaign_changed, weak=False)
    participants_changed.connect(on_participants_changed, weak=False)
    sessions_ended.connect(on_sessions_ended, weak=False)
