"""The home page: each role lands where its work is."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Unit

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():  # noqa: ANN201
    """Dashboard with the directory counts and links to the user's work."""
    counts = dict(db.session.execute(select(Unit.level, func.count()).group_by(Unit.level)).all())
    return render_template("home.html", counts=counts, user=current_user)


@bp.route("/healthz")
def healthz():  # noqa: ANN201
    """Liveness and database check for load balancers and the benchmark."""
    db.session.execute(select(1))
    return {"ok": True}
