"""The ONE place that emits real-time updates. Services call it after their commit.

Stable interface (the wall feature implements delivery, coalescing and sequence numbers):
    announce(event_id, kind, event_point_id=None, data=None)  -> wall viewers of the event
    campaign_updated(campaign_id)                              -> dashboards of the campaign
"""
from __future__ import annotations

from typing import Any


def announce(event_id: int, kind: str, event_point_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Tell wall viewers of `event_id` that something of `kind` changed (call after the commit)."""


def campaign_updated(campaign_id: int) -> None:
    """Tell dashboards of `campaign_id` that its reports changed (call after the commit)."""
