"""Writing the audit log. Callers add the entry in the same transaction as the change."""
from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from launch.extensions import db
from launch.models import AuditEntry, User


def record(
    action: str,
    summary: str,
    *,
    user: User | None = None,
    target: Any = None,
    details: dict | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (not committed: it commits with the change it describes)."""
    if user is None and has_request_context() and getattr(current_user, "is_authenticated", False):
        user = current_user._get_current_object()
    entry = AuditEntry(
        user_id=user.id if user is not None else None,
        actor=actor or (user.username if user is not None else "system"),
        action=action,
        summary=summary[:500],
        details=details,
        target_type=type(target).__name__.lower() if target is not None else None,
        target_id=getattr(target, "id", None),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def record_now(action: str, summary: str, **kwargs: Any) -> AuditEntry:
    """Write an audit entry in its own commit (for refusals, where nothing else is written)."""
    entry = record(action, summary, **kwargs)
    db.session.commit()
    return entry
