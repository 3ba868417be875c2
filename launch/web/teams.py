"""Community digital-technology teams (the members campaigns' "members x N" targets count): per district,
a district's teams, add/edit/delete, CSV import (all or nothing) and export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit
from launch.models.teams import TEAM_LEVELS
from launch.services import directory as directory_svc
from launch.services import teams as team_svc
from launch.services.errors import ValidationFailed
from launch.web.access import operator_required
from launch.web.forms import ImportForm

bp = Blueprint("teams", __name__, url_prefix="/campaigns/teams")


@bp.route("")
@login_required
def index():  # noqa: ANN201
    """Community digital-technology teams: per district, then a district's teams."""
    district_id = request.args.get("district", type=int)
    district = db.session.get(Unit, district_id) if district_id else None
    if district is not None and district.level not in ("district", "province"):
        abort(404)
    summary = team_svc.district_summary()
    page = None
    if district is not None:
        page = db.paginate(team_svc.teams_query(district_id=district.id),
                           per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    totals = {k: sum(r[k] for r in summary) for k in ("district", "commune", "village", "teams", "members")}
    return render_template("campaigns/teams.html", summary=summary, totals=totals, district=district, page=page,
                           team_level_labels=team_svc.TEAM_LEVEL_LABELS)


def _team_units(edition: str) -> list[Unit]:
    """The units a team may sit on, in one map (teams sit on districts and communes)."""
    return list(db.session.scalars(select(Unit).where(Unit.level.in_(("district", "commune")),
                                                      Unit.edition == edition).order_by(Unit.code)))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:team_id>/edit", methods=["GET", "POST"])
@operator_required
def form(team_id: int | None = None):  # noqa: ANN201
    """Add or change a team."""
    team = team_svc.get_team(team_id) if team_id else None
    errors: list = []
    if request.method == "POST":
        data = {k: request.form.get(k) for k in ("unit_id", "level", "name", "members")}
        try:
            saved = team_svc.save_team(data, team=team, actor=current_user)
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        else:
            flash(_("Saved."), "success")
            district = saved.unit if saved.unit.level != "commune" else saved.unit.parent
            return redirect(url_for(".index", district=district.id if district else None))
    else:
        data = ({"unit_id": team.unit_id, "level": team.level, "name": team.name, "members": team.members} if team
                else {"unit_id": request.args.get("unit", ""), "level": "village", "name": "", "members": ""})
    edition = team.unit.edition if team else (request.args.get("edition") or directory_svc.default_edition())
    return render_template("campaigns/team_form.html", team=team, data=data, errors=errors,
                           units=_team_units(edition),
                           levels=TEAM_LEVELS, team_level_labels=team_svc.TEAM_LEVEL_LABELS), (400 if errors else 200)


@bp.route("/<int:team_id>/delete", methods=["POST"])
@operator_required
def delete(team_id: int):  # noqa: ANN201
    team = team_svc.get_team(team_id)
    district = team.unit if team.unit.level != "commune" else team.unit.parent
    team_svc.delete_team(team, actor=current_user)
    flash(_("Team deleted."), "info")
    return redirect(url_for(".index", district=district.id if district else None))


@bp.route("/import", methods=["GET", "POST"])
@operator_required
def import_csv():  # noqa: ANN201
    """Upload a teams CSV: refused whole with every bad line listed, or applied whole."""
    form = ImportForm()
    errors: list = []
    result = None
    if form.validate_on_submit():
        try:
            result = team_svc.import_teams(form.file.data.read(), actor=current_user,
                                           source=form.file.data.filename or "upload")
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        else:
            flash(_("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.",
                    c=result.created, u=result.updated, n=result.unchanged), "success")
    elif request.method == "POST":
        flash(_("Choose a CSV file to import."), "error")
    return render_template("campaigns/teams_import.html", form=form, errors=errors, result=result,
                           required=team_svc.REQUIRED_COLUMNS), (400 if errors else 200)


@bp.route("/export.csv")
@login_required
def export_csv():  # noqa: ANN201
    return Response("\ufeff" + team_svc.export_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="teams.csv"'})
