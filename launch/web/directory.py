"""The directory of connection points: tree, searchable list, details, edits, CSV import."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from launch.extensions import db
from launch.models.units import LEVELS
from launch.services import directory
from launch.services.access import can_act_for, can_read_all, scoped_unit_ids
from launch.services.errors import DomainError, ValidationFailed
from launch.web.access import operator_required
from launch.web.forms import HOST_UNIT_FIELDS, ImportForm, MapImportForm, UnitForm

bp = Blueprint("directory", __name__, url_prefix="/directory")


@bp.route("/")
@login_required
def index():  # noqa: ANN201
    """Searchable, paginated list; the search ignores diacritics and case."""
    q = request.args.get("q", "").strip()[:100]
    level = request.args.get("level") if request.args.get("level") in LEVELS else None
    edition = request.args.get("edition", "").strip()[:16] or None
    stmt = directory.search_query(q, level, edition=edition)
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    # A host sees the phone of the units they act for only (like the unit page), not every host's.
    scope = None if can_read_all(current_user) else scoped_unit_ids(current_user)
    return render_template("directory/index.html", page=page, q=q, level=level, levels=LEVELS,
                           level_labels=directory.LEVEL_LABELS, scope=scope, edition=edition,
                           editions=directory.editions(), edition_label=directory.edition_label)


@bp.route("/tree")
@login_required
def tree():  # noqa: ANN201
    """One map's tree: the province(s), their districts (2023) and communes; the national root on top."""
    editions = directory.editions()
    edition = request.args.get("edition", "").strip()[:16] or (editions[-1].code if editions else None)
    return render_template("directory/tree.html", roots=directory.unit_tree(edition),
                           level_labels=directory.LEVEL_LABELS, edition=edition, editions=editions,
                           edition_label=directory.edition_label)


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit(unit_id: int):  # noqa: ANN201
    """A unit's connection-point details; operators edit them all, its hosts their contact and room."""
    unit = directory.get_unit(unit_id)
    if not (can_read_all(current_user) or can_act_for(current_user, unit.id)):
        abort(403)
    editable = _editable_fields(unit)
    form = UnitForm(obj=unit)
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            try:
                changed = directory.update_unit(unit, {f: getattr(form, f).data for f in editable},
                                                actor=current_user)
            except ValidationFailed as exc:
                for err in exc.errors:
                    flash(str(err), "error")
                status = 400
            else:
                flash(_("Saved.") if changed else _("Nothing changed."), "success")
                return redirect(url_for(".unit", unit_id=unit.id))
        else:
            status = 400
    return render_template("directory/unit.html", unit=unit, form=form, level_labels=directory.LEVEL_LABELS,
                           editable=editable, edition_label=directory.edition_label), status


def _editable_fields(unit) -> tuple[str, ...]:  # noqa: ANN001
    """Operators: every detail; a host acting for the unit: how to reach them and the room; others none."""
    if current_user.is_operator:
        return (*directory.EDITABLE_FIELDS, "expected_attendance")
    if current_user.is_host and can_act_for(current_user, unit.id):
        return HOST_UNIT_FIELDS
    return ()


def _import_page(form: ImportForm, map_form: MapImportForm, errors: list, result: directory.ImportResult | None,
                 edition: str, status: int = 200):  # noqa: ANN202
    return render_template("directory/import.html", form=form, map_form=map_form, errors=errors, result=result,
                           required=directory.REQUIRED_COLUMNS, optional=directory.OPTIONAL_COLUMNS,
                           edition=edition, editions=directory.editions(), counts=directory.edition_counts(),
                           edition_label=directory.edition_label, provinces=directory.package_provinces(),
                           package=directory.package_source(), current_edition=directory.CURRENT_EDITION,
                           legacy_edition=directory.LEGACY_EDITION), status


@bp.route("/import", methods=["GET", "POST"])
@operator_required
def import_csv():  # noqa: ANN201
    """Upload a directory CSV into a map edition: refused whole with every bad line listed, or applied whole."""
    form = ImportForm()
    errors: list = []
    result = None
    edition = (request.form.get("edition") or directory.LEGACY_EDITION).strip()[:40]
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            result = directory.import_directory(data, actor=current_user, edition=edition,
                                                source=form.file.data.filename or "upload")
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.",
                    c=result.created, u=result.updated, n=result.unchanged), "success")
    elif request.method == "POST":
        flash(_("Choose a CSV file to import."), "error")
    return _import_page(form, MapImportForm(formdata=None), errors, result, edition)


@bp.route("/import/map", methods=["POST"])
@operator_required
def import_map():  # noqa: ANN201
    """Load today's map from the vietnam-provinces package: one province (IOC + communes) or the country."""
    map_form = MapImportForm()
    result = None
    if map_form.validate_on_submit():
        choice = map_form.province.data.strip()
        try:
            result = directory.import_current_map(None if choice == "all" else choice, actor=current_user)
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Import done: %(c)d created, %(u)d updated, %(n)d unchanged.",
                    c=result.created, u=result.updated, n=result.unchanged), "success")
    else:
        flash(_("Choose a province or the whole country."), "error")
    return _import_page(ImportForm(formdata=None), map_form, [], result, directory.LEGACY_EDITION,
                        status=200 if result is not None else 400)
