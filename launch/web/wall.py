"""The live wall, the attendance report and the meeting platform's webhook.

Routes (blueprint "wall", /wall):
  GET  /wall/<event>                       the whole wall (operators, viewers; a district host is sent to theirs)
  GET  /wall/<event>/projector             the same, full-screen projector mode (also ?mode=projector)
  GET  /wall/<event>/district/<unit>[/projector]   one district's wall (also its hosts)
  GET  /wall/<event>/snapshot.json[?district=]     the snapshot the Socket.IO client gets
  GET  /wall/<event>/report[?district=]            attendance report (print-friendly) + timeline chart
  GET  /wall/<event>/report.csv | report.xlsx      exports (Vietnamese headings by default)
  GET  /wall/<event>/timeline.json                 the replayed timeline
  GET  /wall/<event>/participants                  meeting participants no point matched (readers)
  POST /wall/<event>/participants/<id>/assign      the operator says which point one is
  POST /wall/hooks/zoom                            Zoom webhooks (signed; CSRF-exempt)
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from launch.extensions import csrf, db
from launch.models import Unit
from launch.realtime import snapshots
from launch.services import access, events, meeting, presence, reports, wall
from launch.services.text import load_json, row_id, small_int
from launch.web.access import operator_required, reader_required

bp = Blueprint("wall", __name__, url_prefix="/wall")


@bp.app_template_global("presence_token")
def presence_token_global(point) -> str:  # noqa: ANN001
    """`{{ presence_token(point) }}` for a host page's data-token, issued to the signed-in host."""
    return presence.presence_token(point, current_user)


def _district(event_id: int, district_id: int | None) -> Unit | None:
    """The group (a district, a province at a national launch) whose wall is asked for, or 404."""
    if district_id is None:
        return None
    unit = db.session.get(Unit, district_id)
    if unit is None or not wall.is_group(event_id, unit.id):
        abort(404)
    return unit


def _authorize(district_id: int | None) -> None:
    """Operators and viewers see every wall; a host only the walls of groups they act for."""
    if access.can_read_all(current_user):
        return
    if district_id is not None and current_user.is_host and access.can_act_for(current_user, district_id):
        return
    abort(403)


def _district_arg() -> int | None:
    value = request.args.get("district", "")
    return small_int(value)


def _own_district(event_id: int) -> int | None:
    """The first of the event's groups a host acts for (for sending them to their wall)."""
    for unit in current_user.units:
        if wall.is_group(event_id, unit.id):
            return unit.id
    return None


def status_labels() -> dict[str, str]:
    """Tile status words (a tile shows its status by colour AND by this word)."""
    return {
        "invited": _("Not connected"), "tested": _("Connection tested"), "checked_in": _("Checked in"),
        "live": _("Live"), "signal_lost": _("Signal lost"), "problem": _("Problem reported"), "absent": _("Absent"),
    }


def short_status_labels() -> dict[str, str]:
    """The projector's one-word states (with the icon and the colour: never colour alone)."""
    return {
        "invited": _("Not yet"), "tested": _("Tested"), "checked_in": _("Present"), "live": _("Live"),
        "signal_lost": _("Lost signal"), "problem": _("Problem"), "absent": _("Absent"),
    }


def js_labels() -> dict[str, Any]:
    """Every string wall.js shows, translated."""
    return {
        "status": status_labels(),
        "status_short": short_status_labels(),
        "host_mark": _("Hosting"), "host_point": _("Host point"),
        "more": _("+%(n)s more"),
        "problem": {k: reports.problem_label(k) for k in ("no_audio", "no_video", "no_connection", "other")},
        "state": {"draft": _("Draft"), "scheduled": _("Scheduled"), "testing": _("Connection test"),
                  "live": _("Live now"), "ended": _("Ended"), "cancelled": _("Cancelled")},
        "feed": {
            "site_checkin": _("checked in"), "attendee_checkin": _("an attendee checked in"),
            "headcount": _("headcount updated"), "connection_test": _("connection tested"),
            "problem": _("reported a problem"), "problem_resolved": _("problem resolved"),
            "site_checkin_undone": _("check-in undone"), "attendee_checkin_undone": _("an attendee check-in undone"),
            "presence_closed": _("host page closed"),
            "presence_connected": _("host page connected"), "presence_lost": _("signal lost"),
            "presence_back": _("reconnected"), "call_joined": _("joined the call"), "call_left": _("left the call"),
            "absent": _("marked absent"), "state": _("event state changed"),
        },
        "reason": {"problem": _("Problem reported"), "signal_lost": _("Signal lost"),
                   "not_checked_in": _("Not checked in")},
        "in_call": _("In the call"), "not_in_call": _("Not in the call"),
        "page_live": _("Host page live"), "page_off": _("Host page offline"),
        "page_closed": _("Host page closed at %(time)s (not an alarm)"), "resolve": _("Mark resolved"),
        "headcount_only": _("%(present)s people"),
        "checked_in_at": _("Checked in %(time)s"), "not_checked_in": _("Not checked in"),
        "headcount": _("%(present)s of %(expected)s people"), "attendees": _("%(n)s attendee check-ins"),
        "last_seen": _("last seen %(time)s"), "never_seen": _("never connected"),
        "starts_in": _("Starts in %(time)s"), "started_ago": _("Started %(time)s ago"),
        "ends_in": _("Ends in %(time)s"), "ended": _("Ended"),
        "connected": _("Live updates"), "reconnecting": _("Reconnecting… the wall will catch up by itself"),
        "refused": _("You may not watch this wall."),
        "all_clear": _("Every point is checked in and connected."), "no_activity": _("No activity yet."),
        "short": {"in_call": _("Call"), "checked_in": _("Check-in"), "page_live": _("Page")},
        "participant": {"unmatched": _("matches no point"), "ambiguous": _("matches several points"),
                        "in_call": _("in the call"), "left": _("left the call")},
        "level": {"country": _("national level"), "province": _("province level"), "district": _("district level"),
                  "commune": _("commune level")},
        "groups": {"checked": _("points checked in"), "attention": _("%(n)s need attention"),
                   "problems": _("%(n)s problems"), "signal_lost": _("%(n)s signal lost"),
                   "open": _("Open the wall of %(name)s"),
                   "more": _("and %(n)s more: open a province to see them all")},
    }


def group_words(levels: set[str], event: Any) -> dict[str, str]:
    """The wall's words for its groups, after the map: districts (2023), provinces (national)."""
    root = event.host_unit.name if event.host_unit is not None else _("the event")
    if levels == {"province"}:
        return {"per": _("Checked in per province"), "all": _("All provinces"), "whole": _("Whole country"),
                "label": _("Province")}
    if levels == {"district"}:
        return {"per": _("Checked in per district"), "all": _("All districts"), "whole": _("Whole province"),
                "label": _("District")}
    return {"per": _("Checked in per area"), "all": _("All areas"),
            "whole": _("All of %(name)s", name=root), "label": _("Area")}


def _render_wall(event_id: int, district_id: int | None, projector: bool) -> str:
    _authorize(district_id)
    event = events.get_event(event_id)
    district = _district(event_id, district_id)
    groups = wall.event_groups(event.id)
    districts = [(g["id"], g["name"]) for g in groups] if district is None else []
    projector = projector or request.args.get("mode") == "projector"
    group_view = district is None and wall.is_national(event.id)  # a tile per province, never 3,356
    return render_template(
        "wall/wall.html", event=event, district=district, districts=districts, projector=projector,
        group_view=group_view, drill_url=url_for("wall.district_wall", event_id=event.id, district_id=0),
        group_words=group_words({g["level"] for g in groups}, event),
        labels=js_labels(), statuses=status_labels(), can_read_all=access.can_read_all(current_user),
        can_resolve=current_user.is_operator and not projector,
        participants=meeting.waiting_participants(event.id) if district is None else [],
        snapshot_url=url_for("wall.snapshot_json", event_id=event.id, district=district_id),
    )


@bp.get("/<int:event_id>")
@login_required
def event_wall(event_id: int):  # noqa: ANN201
    """The whole wall; a district host is sent to their district's wall."""
    if not access.can_read_all(current_user):
        own = _own_district(event_id) if current_user.is_host else None
        if own is None:
            abort(403)
        return redirect(url_for("wall.district_wall", event_id=event_id, district_id=own))
    return _render_wall(event_id, None, projector=False)


@bp.get("/<int:event_id>/projector")
@login_required
def projector(event_id: int):  # noqa: ANN201
    """The whole wall in projector mode."""
    return _render_wall(event_id, None, projector=True)


@bp.get("/<int:event_id>/district/<int:district_id>")
@login_required
def district_wall(event_id: int, district_id: int):  # noqa: ANN201
    """One district's wall (its hosts may open it)."""
    return _render_wall(event_id, district_id, projector=False)


@bp.get("/<int:event_id>/district/<int:district_id>/projector")
@login_required
def district_projector(event_id: int, district_id: int):  # noqa: ANN201
    """One district's wall in projector mode."""
    return _render_wall(event_id, district_id, projector=True)


@bp.get("/<int:event_id>/snapshot.json")
@login_required
def snapshot_json(event_id: int):  # noqa: ANN201
    """The wall's snapshot as JSON (what a Socket.IO client gets on join)."""
    district_id = _district_arg()
    _authorize(district_id)
    _district(event_id, district_id)
    snap = snapshots.snapshot(event_id, district_id)
    return Response(snap.text, mimetype="application/json")  # encoded once per room and number


def _report(event_id: int) -> dict[str, Any]:
    district_id = _district_arg()
    _authorize(district_id)
    _district(event_id, district_id)
    return reports.attendance_report(event_id, district_id)


@bp.get("/<int:event_id>/report")
@login_required
def report(event_id: int):  # noqa: ANN201
    """The attendance report: per point, per district, province; absent and late; the timeline."""
    data = _report(event_id)
    return render_template(
        "wall/report.html", report=data, event=data["event"], state_labels=js_labels()["state"],
        method_label=reports.method_label, attendance_label=reports.attendance_label,
        report_group_heading=reports.group_heading,
        problem_label=reports.problem_label, problem_text=reports.problem_text,
        timeline_json=json.dumps(reports.timeline(event_id, data["district_id"])),
        chart_labels=json.dumps({"checked_in": _("Points checked in"), "in_call": _("Points in the call"),
                                 "page_live": _("Host pages live"), "invited": _("Points invited")}),
        district_id=data["district_id"],
    )


def _filename(event_id: int, ext: str) -> str:
    return f"attendance-event-{event_id}.{ext}"


@bp.get("/<int:event_id>/report.csv")
@login_required
def report_csv(event_id: int):  # noqa: ANN201
    """The attendance report as CSV."""
    body = reports.to_csv(_report(event_id))
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(event_id, "csv")}"'})


@bp.get("/<int:event_id>/report.xlsx")
@login_required
def report_xlsx(event_id: int):  # noqa: ANN201
    """The attendance report as an Excel workbook."""
    body = reports.to_xlsx(_report(event_id))
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(event_id, "xlsx")}"'})


@bp.get("/<int:event_id>/timeline.json")
@login_required
def timeline_json(event_id: int):  # noqa: ANN201
    """How many points were checked in, in the call and live, minute by minute."""
    district_id = _district_arg()
    _authorize(district_id)
    _district(event_id, district_id)
    return jsonify(reports.timeline(event_id, district_id))


@bp.get("/<int:event_id>/participants")
@reader_required
def participants(event_id: int):  # noqa: ANN201
    """Meeting participants no point matched (none, or several with that name): the operator assigns each."""
    event = events.get_event(event_id)
    points = sorted(event.points, key=lambda p: (not p.is_host, p.unit.parent.name if p.unit.parent else "",
                                                 p.unit.name))
    waiting = meeting.waiting_participants(event.id)
    candidates = {w.id: [p.id for p in meeting.match_participant(event, w.user_name, w.email)[1]] for w in waiting}
    return render_template("wall/participants.html", event=event, waiting=waiting, points=points,
                           candidates=candidates)


@bp.post("/<int:event_id>/participants/<int:participant_id>/assign")
@operator_required
def assign_participant(event_id: int, participant_id: int):  # noqa: ANN201
    """Assign a waiting participant to its point: the point is given its e-mail or name and its call state."""
    events.get_event(event_id)
    point = meeting.assign_participant(participant_id, row_id(request.form.get("point_id")), actor=current_user)
    flash(_("Assigned to %(point)s: its next joins and leaves count for it.", point=point.unit.name), "success")
    return redirect(url_for(".participants", event_id=event_id))


@bp.post("/hooks/zoom")
@csrf.exempt
def zoom_hook():  # noqa: ANN201
    """Zoom's webhooks: refused (401) unless signed with ZOOM_WEBHOOK_SECRET_TOKEN."""
    secret = meeting.webhook_secret()
    body = request.get_data(cache=True)
    if not meeting.verify_signature(secret, request.headers.get("x-zm-request-timestamp"), body,
                                    request.headers.get("x-zm-signature")):
        return jsonify({"ok": False, "code": "bad_signature"}), 401
    try:
        payload = load_json(body)
    except ValueError:
        return jsonify({"ok": False, "code": "bad_request"}), 400
    if not isinstance(payload, dict):
        return jsonify({"ok": False, "code": "bad_request"}), 400
    if payload.get("event") == meeting.URL_VALIDATION:
        plain = str((payload.get("payload") or {}).get("plainToken") or "")
        if not plain:
            return jsonify({"ok": False, "code": "bad_request"}), 400
        return jsonify(meeting.url_validation_response(secret, plain))
    return jsonify({"ok": True, **meeting.handle_event(payload)})
