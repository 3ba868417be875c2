"""Host-page presence (filled in by the wall feature)."""
from __future__ import annotations

from datetime import datetime


def check_presence(now: datetime | None = None) -> int:
    """Mark points whose host page went silent as 'signal lost'; returns how many changed."""
    return 0
