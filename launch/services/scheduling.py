"""Running due scheduled tasks (filled in by the events feature)."""
from __future__ import annotations


def run_due_tasks() -> int:
    """Claim and run every due task; returns how many ran."""
    return 0
