"""The home page: each role lands where its work is."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from launch.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():  # noqa: ANN201
    """Dashboard with the directory counts and links to the user's work."""
    from launch.services.directory import edition_counts, edition_label

    counts = edition_counts()  # {edition: {level: n}}: a two-level map shows no district count
    return render_template("home.html", counts=counts, user=current_user, edition_label=edition_label)


@bp.route("/healthz")
def healthz():  # noqa: ANN201
    """Liveness and database check for load balancers and the benchmark."""
    db.session.execute(select(1))
    return {"ok": True}
