"""The ONE place that emits wall updates. Services call it after their commit.

Interface (stable; the wall feature implements the delivery):
    announce(event_id, kind, event_point_id=None, data=None)
"""
from __future__ import annotations

from typing import Any


def announce(event_id: int, kind: str, event_point_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    """Tell wall viewers of `event_id` that something of `kind` changed (after the commit)."""
