"""Follow-up campaigns: list, create/edit, targets, the hosts' report form, dashboards, exports, teams."""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Event, Unit
from launch.models.campaigns import Campaign
from launch.services import campaigns as svc
from launch.services import directory
from launch.services import teams as team_svc
from launch.services.access import can_read_all
from launch.services.errors import DomainError, ValidationFailed
from launch.services.text import small_int
from launch.web.access import operator_required, reader_required
from launch.web.paging import ListPage, page_arg

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

UNITS_PER_PAGE = 25


def _labels() -> dict[str, Any]:
    return {"state_labels": svc.STATE_LABELS, "rhythm_labels": svc.RHYTHM_LABELS, "level_labels": svc.LEVEL_LABELS,
            "rule_labels": svc.RULE_LABELS, "status_labels": svc.STATUS_LABELS,
            "team_level_labels": team_svc.TEAM_LEVEL_LABELS}


@bp.app_context_processor
def inject_campaign_helpers() -> dict:
    """`open_campaigns_summary()` for the home page's campaigns section (computed only when called)."""

    def open_campaigns_summary() -> list[dict[str, Any]]:
        if not current_user.is_authenticated:
            return []
        stmt = svc.campaigns_for(current_user).where(Campaign.state == "open").limit(5)
        out = []
        for campaign in db.session.scalars(stmt):
            data = svc.progress(campaign, user=current_user)
            out.append({"campaign": campaign, "totals": data["totals"], "primary": data["primary"],
                        "focus": data["focus"]})
        return out

    return {"open_campaigns_summary": open_campaigns_summary}


# ------------------------------------------------------------------ campaigns


@bp.route("/")
@login_required
def index():  # noqa: ANN201
    """The campaigns the user may see, newest first."""
    page = db.paginate(svc.campaigns_for(current_user), per_page=current_app.config["ITEMS_PER_PAGE"],
                       error_out=False)
    return render_template("campaigns/index.html", page=page, templates=svc.TEMPLATES, **_labels())


def _form_data(form) -> dict[str, Any]:  # noqa: ANN001
    data: dict[str, Any] = {k: form.get(k) for k in (
        "template", "name", "description", "date_mode", "anchor_event_id", "anchor_days", "start", "end", "rhythm",
        "cutoff", "escalation_minutes", "reporting_level")}
    data["district_ids"] = form.getlist("district_ids")
    data["metrics"] = [{"key": form.get(f"metric-{i}-key") or None, "label": form.get(f"metric-{i}-label", ""),
                        "target_rule": form.get(f"metric-{i}-rule", "none"),
                        "target_value": form.get(f"metric-{i}-value")} for i in range(svc.MAX_METRICS)]
    return data


def _render_form(data: dict[str, Any], errors: list, campaign=None, status: int = 200):  # noqa: ANN001
    metrics = list(data.get("metrics") or [])
    metrics += [{"key": None, "label": "", "target_rule": "none", "target_value": None}] * (
        svc.MAX_METRICS - len(metrics))
    areas_by_map: dict[str, list[Unit]] = {}
    for area in directory.areas(include_roots=True):
        areas_by_map.setdefault(directory.edition_label(area.edition), []).append(area)
    events = list(db.session.scalars(select(Event).order_by(Event.start_dt.desc()).limit(50)))
    field_errors: dict[str, list[str]] = {}
    for e in errors:
        field_errors.setdefault(getattr(e, "field", ""), []).append(str(e))
    return render_template("campaigns/form.html", data=data, metrics=metrics[: svc.MAX_METRICS], errors=errors,
                           field_errors=field_errors, campaign=campaign, areas_by_map=areas_by_map, events=events,
                           selected_districts={str(i) for i in data.get("district_ids") or []},
                           **_labels()), status


@bp.route("/new", methods=["GET", "POST"])
@operator_required
def new():  # noqa: ANN201
    """Create a campaign from a template (?template=seven_in_seven) or from scratch."""
    if request.method == "POST":
        data = _form_data(request.form)
        try:
            campaign = svc.save_campaign(data, actor=current_user, confirm_over=request.form.get("confirm_over") == "1")
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            return _render_form(data, exc.errors, status=exc.status)
        flash(_("Campaign created."), "success")
        return redirect(url_for(".dashboard", campaign_id=campaign.id))
    template = request.args.get("template")
    if template:
        data = svc.template_defaults(template)
    else:
        data = {"date_mode": "dates", "rhythm": "daily", "cutoff": "17:00", "escalation_minutes": 120,
                "reporting_level": "commune", "district_ids": [], "metrics": []}
    return _render_form(data, [])


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@operator_required
def edit(campaign_id: int):  # noqa: ANN201
    """Change a campaign's settings (dates, rhythm, metrics and units are fixed once reports are in)."""
    campaign = svc.get_campaign(campaign_id)
    if request.method == "POST":
        data = _form_data(request.form)
        data["template"] = campaign.template
        try:
            svc.save_campaign(data, campaign=campaign, actor=current_user,
                              confirm_over=request.form.get("confirm_over") == "1")
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            return _render_form(data, exc.errors, campaign=campaign, status=exc.status)
        flash(_("Saved."), "success")
        return redirect(url_for(".dashboard", campaign_id=campaign.id))
    return _render_form(svc.campaign_form_data(campaign), [], campaign=campaign)


@bp.route("/<int:campaign_id>/cancel", methods=["POST"])
@operator_required
def cancel(campaign_id: int):  # noqa: ANN201
    campaign = svc.get_campaign(campaign_id)
    svc.cancel_campaign(campaign, actor=current_user)
    flash(_("The campaign was cancelled; its reminders will not be sent."), "info")
    return redirect(url_for(".dashboard", campaign_id=campaign.id))


def _dashboard_args() -> dict[str, Any]:
    district_id = request.args.get("district", type=int)
    show = request.args.get("show") if request.args.get("show") in ("below", "missing") else "all"
    return {"district_id": district_id, "show": show, "page": page_arg()}


def _dashboard_context(campaign, args: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    svc.ensure_can_view(campaign, current_user)
    data = svc.progress(campaign, user=current_user, district_id=args["district_id"])
    rows = data["shown"]
    if args["show"] == "below":
        rows = [r for r in rows if r.below]
    elif args["show"] == "missing" and data["focus"] is not None:
        rows = [r for r in rows if r.statuses[data["focus"].index] in ("missing", "open")]
    drill = args["district_id"] is not None or len(data["groups"]) <= 1 or args["show"] != "all"
    return {"campaign": campaign, "d": data, "filtered": rows, "rows": ListPage(rows, args["page"], UNITS_PER_PAGE),
            "drill": drill,
            "args": args, "can_report": current_user.is_operator or (current_user.is_host and bool(data["units"])),
            **_labels()}


@bp.route("/<int:campaign_id>")
@login_required
def dashboard(campaign_id: int):  # noqa: ANN201
    """Progress against target per district (drill down to communes), completeness, trend, top units."""
    campaign = svc.get_campaign(campaign_id)
    ctx = _dashboard_context(campaign, _dashboard_args())
    anchor = db.session.get(Event, campaign.anchor_event_id) if campaign.anchor_event_id else None
    return render_template("campaigns/dashboard.html", anchor=anchor, last_day=svc.last_day(campaign),
                           cutoff=svc.cutoff_text(campaign), **ctx)


@bp.route("/<int:campaign_id>/data.json")
@login_required
def dashboard_data(campaign_id: int):  # noqa: ANN201
    """The dashboard's figures and its live section, re-fetched when a report arrives."""
    campaign = svc.get_campaign(campaign_id)
    ctx = _dashboard_context(campaign, _dashboard_args())
    body = svc.progress_json(ctx["d"], rows=ctx["filtered"])
    body["html"] = render_template("campaigns/_live.html", **ctx)
    body["generated"] = iso(utcnow())
    return jsonify(body)


@bp.route("/<int:campaign_id>/targets", methods=["GET", "POST"])
@reader_required
def targets(campaign_id: int):  # noqa: ANN201
    """Targets per unit: the rule's number, overridable per unit and metric (viewers read them)."""
    campaign = svc.get_campaign(campaign_id)
    metrics = [m for m in campaign.metrics if m.target_rule != "none"] or list(campaign.metrics)
    errors: list = []
    if request.method == "POST":
        if not current_user.is_operator:
            abort(403)
        values = {}
        for key, raw in request.form.items():
            if key.startswith("t-"):
                _t, uid, mid = (key.split("-") + ["", ""])[:3]
                if small_int(uid) is not None and small_int(mid) is not None:
                    values[(small_int(uid), small_int(mid))] = raw.strip()
        try:
            changed = svc.set_target_overrides(campaign, values, actor=current_user)
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        else:
            flash(_("%(n)d targets changed.", n=changed) if changed else _("Nothing changed."), "success")
            return redirect(url_for(".targets", campaign_id=campaign.id, page=page_arg()))
    units = sorted((cu.unit for cu in campaign.units), key=lambda u: u.code)
    page = ListPage(units, page_arg(), current_app.config["ITEMS_PER_PAGE"])
    return render_template("campaigns/targets.html", campaign=campaign, metrics=metrics, page=page, errors=errors,
                           **svc.target_sheet(campaign, page.items, metrics), **_labels()), (400 if errors else 200)


@bp.route("/<int:campaign_id>/report", methods=["GET", "POST"])
@login_required
def report(campaign_id: int):  # noqa: ANN201
    """The hosts' phone form: a number per metric for one unit and period; sending again corrects."""
    campaign = svc.get_campaign(campaign_id)
    if not (current_user.is_operator or current_user.is_host):
        abort(403)
    mine = svc.reporting_units_of(campaign, current_user)
    if not mine:
        abort(403)
    now = utcnow()
    started = svc.started_periods(campaign, now)
    source = request.form if request.method == "POST" else request.args
    unit_id = source.get("unit", type=int) or mine[0].id
    period_index = source.get("period", type=int)
    if period_index is None:
        period_index = started[-1].index if started else 0
    errors: list = []
    values: dict[str, Any] = {}
    if request.method == "POST" and small_int(request.form.get("unit")) is None:
        # Never a default: a report without its unit (or unit=abc) was saved to the host's first unit.
        values = {str(m.id): request.form.get(f"m-{m.id}", "") for m in campaign.metrics}
        errors = [_("Choose the unit you report for; nothing was saved.")]
        flash(errors[0], "error")
    elif request.method == "POST":
        unit_id = small_int(request.form.get("unit"))
        values = {str(m.id): request.form.get(f"m-{m.id}", "") for m in campaign.metrics}
        try:
            rep = svc.submit_report(campaign, unit_id, request.form.get("period"), values, user=current_user,
                                    note=request.form.get("note"))
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        except DomainError as exc:
            if exc.status == 403:
                raise
            flash(str(exc.message), "error")
        else:
            if rep.version > 1:
                flash(_("Correction saved (version %(v)d); the earlier numbers stay in the history.", v=rep.version),
                      "success")
            else:
                flash(_("Report saved. Thank you!"), "success")
            if rep.is_late:
                flash(_("This report arrived after the cut-off and is marked late."), "warning")
            return redirect(url_for(".report", campaign_id=campaign.id, unit=unit_id, period=rep.period_index))
    unit = next((u for u in mine if u.id == unit_id), None)
    if unit is None:
        if request.method == "POST" and not errors:
            abort(403)
        unit = mine[0]
    history = svc.report_history(campaign, unit.id, period_index)
    current = next((r for r in history if r.superseded_dt is None), None)
    if not values and current is not None:
        values = {str(v.metric_id): v.value for v in current.values}
    data = svc.progress(campaign, user=current_user, now=now)
    unit_row = next((r for r in data["units"] if r.unit.id == unit.id), None)
    period = next((p for p in svc.periods(campaign) if p.index == period_index), None)
    return render_template("campaigns/report.html", campaign=campaign, units=mine, unit=unit, started=started,
                           period=period, period_index=period_index, values=values, history=history,
                           current=current, errors=errors, unit_row=unit_row, d=data, now=now,
                           **_labels()), (400 if errors or request.method == "POST" else 200)


@bp.route("/<int:campaign_id>/history")
@login_required
def history(campaign_id: int):  # noqa: ANN201
    """Every report version, newest first (corrections included), within the user's scope."""
    campaign = svc.get_campaign(campaign_id)
    svc.ensure_can_view(campaign, current_user)
    unit_ids = None if can_read_all(current_user) else svc.visible_unit_ids(campaign, current_user)
    page = db.paginate(svc.recent_reports_query(campaign, unit_ids), per_page=current_app.config["ITEMS_PER_PAGE"],
                       error_out=False)
    return render_template("campaigns/history.html", campaign=campaign, page=page,
                           periods={p.index: p for p in svc.periods(campaign)}, **_labels())


@bp.route("/<int:campaign_id>/export.<fmt>")
@login_required
def export(campaign_id: int, fmt: str):  # noqa: ANN201
    """Results (?kind=results) or reporting status (?kind=status) as CSV or XLSX, within the user's scope."""
    campaign = svc.get_campaign(campaign_id)
    svc.ensure_can_view(campaign, current_user)
    kind = request.args.get("kind", "results")
    if kind not in ("results", "status") or fmt not in ("csv", "xlsx"):
        abort(404)
    filename = f"campaign-{campaign.id}-{kind}.{fmt}"
    if fmt == "csv":
        body = "\ufeff" + svc.export_csv(campaign, kind, user=current_user)
        mimetype = "text/csv; charset=utf-8"
    else:
        body = svc.export_xlsx(campaign, kind, user=current_user)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
