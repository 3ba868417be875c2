"""Operators' administration pages: the audit log and the accounts."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from launch.extensions import db
from launch.models import AuditEntry, User
from launch.web.access import operator_required, reader_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/audit")
@reader_required
def audit_log():  # noqa: ANN201
    """Who changed what, when: newest first, filterable by action prefix (viewers read it too)."""
    action = request.args.get("action", "").strip()[:64]
    stmt = select(AuditEntry).order_by(AuditEntry.created_dt.desc(), AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    return render_template("admin/audit.html", page=page, action=action)


@bp.route("/users")
@operator_required
def users():  # noqa: ANN201
    """The accounts and their roles and units."""
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows)
