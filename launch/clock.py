"""One source of "now", in UTC, so tests can move time (time-machine) and code never mixes zones."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value is taken as local (Asia/Ho_Chi_Minh) time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """The ONE wire format of a time (JSON API, wall, webhooks): ISO 8601 in UTC with "Z"
    ("2023-07-28T00:30:00Z"); None stays None. A naive value is taken as UTC (how it is stored)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_local(value: datetime | None) -> datetime | None:
    """The same instant in Asia/Ho_Chi_Minh, for display and for local-time forms."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ)


def parse_local_dt(value: Any) -> datetime | None:
    """A datetime (aware, or naive local Asia/Ho_Chi_Minh) or an ISO text like 2023-07-28T08:00 -> UTC.

    None for an empty or unreadable value: callers turn that into their own translated refusal.
    """
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    try:
        return as_utc(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def local_text(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """`value` in Asia/Ho_Chi_Minh as text for notices and exports ("" for None)."""
    local = to_local(value)
    return local.strftime(fmt) if local else ""
