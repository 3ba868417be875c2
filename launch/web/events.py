"""Launch events pages: list, calendar, create/edit, the event page (state, readiness, tasks), points."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from launch.clock import to_local, utcnow
from launch.extensions import db
from launch.models import Notification, Unit
from launch.models.events import EVENT_STATES
from launch.models.units import LEVELS
from launch.services import directory, events
from launch.services.directory import LEVEL_LABELS
from launch.services.errors import ValidationFailed
from launch.services.text import small_int
from launch.web.access import operator_required

bp = Blueprint("events", __name__, url_prefix="/events")


def _form_data(form: Any, *, new: bool) -> dict[str, Any]:
    """The submitted form as the service's input dict."""
    data: dict[str, Any] = {key: form.get(key, "") for key in (
        "title", "description", "start", "end", "meeting_url", "meeting_id", "meeting_passcode",
        "test_window_minutes", "absence_grace_minutes", "reminder_offsets", "agenda", "host_unit_id")}
    mode = form.get("invite_mode", "all" if new else "keep")
    data["invite"] = {"mode": mode, "districts": form.getlist("invite_districts"),
                      "levels": form.getlist("invite_levels"), "units": form.get("invite_units", "")}
    return data


def _by_map(units: list[Unit]) -> list[tuple[str, list[Unit]]]:
    """Units grouped by their map, in the order given: [(the map in words, units)]."""
    groups: dict[str, list[Unit]] = {}
    for unit in units:
        groups.setdefault(unit.edition, []).append(unit)
    return [(directory.edition_label(edition), members) for edition, members in groups.items()]


def _form_context(form: Any, **extra: Any) -> dict[str, Any]:
    hosts = db.session.scalars(select(Unit).where(Unit.level != "commune")
                               .order_by(Unit.edition.desc(), directory.LEVEL_ORDER, Unit.code)).all()
    return {"areas_by_map": _by_map(directory.areas()), "hosts_by_map": _by_map(list(hosts)),
            "levels": [lv for lv in LEVELS if lv != "country"], "level_labels": LEVEL_LABELS,
            "chosen_districts": form.getlist("invite_districts") if hasattr(form, "getlist") else [],
            "chosen_levels": form.getlist("invite_levels") if hasattr(form, "getlist") else [], **extra}


def _get_visible(event_id: int):
    event = events.get_event(event_id)
    if not events.can_view(current_user, event):
        abort(403)
    return event


@bp.route("/")
@login_required
def index():  # noqa: ANN201
    """Events with their state: upcoming first; hosts see those inviting their points."""
    state = request.args.get("state") if request.args.get("state") in EVENT_STATES else None
    when = request.args.get("when") if request.args.get("when") in ("upcoming", "past") else None
    rows = db.session.scalars(events.visible_events_query(current_user, state=state, when=when).limit(200)).all()
    counts = dict(db.session.execute(
        select(Notification.event_id, func.count()).where(Notification.status == "failed",
                                                          Notification.event_id.in_([e.id for e in rows] or [-1]))
        .group_by(Notification.event_id)).all()) if current_user.is_operator else {}
    return render_template("events/index.html", events=rows, state=state, when=when, states=EVENT_STATES,
                           state_labels=events.STATE_LABELS, failed_counts=counts, now=utcnow())


@bp.route("/calendar")
@login_required
def calendar():  # noqa: ANN201
    """A month, day by day (local time)."""
    today = to_local(utcnow()).date()
    try:
        year, month = (int(x) for x in request.args.get("month", f"{today.year}-{today.month}").split("-"))
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    weeks = events.calendar_month(current_user, first.year, first.month)
    return render_template("events/calendar.html", weeks=weeks, first=first, today=today,
                           prev_month=prev_month, next_month=next_month, state_labels=events.STATE_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@operator_required
def create():  # noqa: ANN201
    """Create a launch event (as a draft, or scheduled at once)."""
    errors: list = []
    form: Any = request.form
    if request.method == "POST":
        try:
            event = events.create_event(_form_data(request.form, new=True), actor=current_user,
                                        publish=request.form.get("publish") == "1")
        except ValidationFailed as exc:
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("The event was created."), "success")
            return redirect(url_for(".show", event_id=event.id))
    else:
        form = {"test_window_minutes": "60", "absence_grace_minutes": "10", "reminder_offsets": "24h, 1h, 15m",
                "invite_mode": "all"}
    return render_template("events/form.html", event=None, form=form, errors=errors,
                           **_form_context(form)), 400 if errors else 200


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@operator_required
def edit(event_id: int):  # noqa: ANN201
    """Edit an event; new times move its pending tasks."""
    event = events.get_event(event_id)
    errors: list = []
    form: Any = request.form
    if request.method == "POST":
        try:
            events.update_event(event, _form_data(request.form, new=False), actor=current_user)
        except ValidationFailed as exc:
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".show", event_id=event.id))
    else:
        form = {"title": event.title, "description": event.description or "",
                "start": to_local(event.start_dt).strftime("%Y-%m-%dT%H:%M"),
                "end": to_local(event.end_dt).strftime("%Y-%m-%dT%H:%M"),
                "meeting_url": event.meeting_url or "", "meeting_id": event.meeting_id or "",
                "meeting_passcode": event.meeting_passcode or "",
                "test_window_minutes": str(event.test_window_minutes),
                "absence_grace_minutes": str(event.absence_grace_minutes),
                "reminder_offsets": ", ".join(events.format_offset(m) for m in event.reminder_offsets or []),
                "agenda": events.agenda_text(event), "host_unit_id": str(event.host_unit_id or ""),
                "invite_mode": "keep"}
    return render_template("events/form.html", event=event, form=form, errors=errors,
                           **_form_context(form)), 400 if errors else 200


@bp.route("/<int:event_id>")
@login_required
def show(event_id: int):  # noqa: ANN201
    """The event: state, programme, meeting, readiness (live), tasks and notices."""
    event = _get_visible(event_id)
    points = events.user_points(current_user, event)
    verdicts = events.readiness(event, points)
    not_ready = [v for v in verdicts if not v.ready]
    context: dict[str, Any] = {}
    if current_user.is_operator or current_user.is_viewer:
        context["tasks"] = events.tasks_of(event)
        context["failed_notices"] = db.session.scalar(
            select(func.count()).select_from(Notification)
            .where(Notification.event_id == event.id, Notification.status == "failed"))
    return render_template("events/show.html", event=event, verdicts=verdicts, not_ready=not_ready,
                           state_labels=events.STATE_LABELS, check_labels=events.CHECK_LABELS,
                           checks=events.CHECKS, moves=events.MANUAL_MOVES.get(event.state, ()),
                           task_labels=events.TASK_LABELS, absent=[v for v in verdicts if v.point.absent_dt],
                           **context)


@bp.route("/<int:event_id>/readiness.json")
@login_required
def readiness_json(event_id: int):  # noqa: ANN201
    """Live readiness of the points the user may see (the event page refreshes with it)."""
    event = _get_visible(event_id)
    verdicts = events.readiness(event, events.user_points(current_user, event))
    return jsonify({"ok": True, "state": event.state, "total": len(verdicts),
                    "ready": sum(1 for v in verdicts if v.ready),
                    "not_ready": [{"point_id": v.point.id, "unit": v.point.unit.name, "code": v.point.unit.code,
                                   "missing": v.missing} for v in verdicts if not v.ready]})


@bp.route("/<int:event_id>/readiness")
@login_required
def readiness(event_id: int):  # noqa: ANN201
    """The verdicts stored at the opening of the connection test and at T-15 min."""
    event = _get_visible(event_id)
    stored = events.stored_readiness(event)
    if not (current_user.is_operator or current_user.is_viewer):
        mine = {p.id for p in events.user_points(current_user, event)}
        stored = {stage: [r for r in rows if r.event_point_id in mine] for stage, rows in stored.items()}
    return render_template("events/readiness.html", event=event, stored=stored, stage_labels=events.STAGE_LABELS,
                           stage_notes=events.stage_notes(event),
                           check_labels=events.CHECK_LABELS, checks=events.CHECKS,
                           state_labels=events.STATE_LABELS)


@bp.route("/<int:event_id>/state", methods=["POST"])
@operator_required
def change_state(event_id: int):  # noqa: ANN201
    """Move the event on by hand (or cancel it, with a reason)."""
    event = events.get_event(event_id)
    to = request.form.get("to", "")
    if to == "cancelled":
        events.cancel_event(event, actor=current_user, reason=request.form.get("reason"))
    else:
        events.change_state(event, to, actor=current_user)
    flash(_("The event is now: %(state)s.", state=events.STATE_LABELS.get(event.state, event.state)), "success")
    return redirect(url_for(".show", event_id=event.id))


@bp.route("/<int:event_id>/walk-ins", methods=["POST"])
@operator_required
def walk_ins(event_id: int):  # noqa: ANN201
    """Allow (allow=1) or stop (allow=0) walk-ins from other units at this event's points."""
    event = events.get_event(event_id)
    allow = request.form.get("allow") == "1"
    if events.set_walk_ins(event, allow, actor=current_user):
        flash(_("Walk-ins from other units are now allowed: hosts may check in anyone on the roster.") if allow
              else _("Walk-ins stopped: hosts check in the people of their own units only."), "success")
    return redirect(url_for(".show", event_id=event.id))


@bp.route("/<int:event_id>/points", methods=["GET", "POST"])
@login_required
def points(event_id: int):  # noqa: ANN201
    """Invited points: expected attendance, room/endpoint, and the Zoom participant name and e-mail the
    meeting is matched by, per point (operators adjust them)."""
    event = _get_visible(event_id)
    errors: list = []
    if request.method == "POST":
        if not current_user.is_operator:
            abort(403)
        rows: dict[int, dict[str, Any]] = {}
        for key, value in request.form.items():
            name, _sep, point_id = key.rpartition("-")
            if name in ("expected_attendance", *events.POINT_TEXTS) and small_int(point_id) is not None:
                rows.setdefault(small_int(point_id), {})[name] = value
        try:
            changed = events.update_points(event, rows, actor=current_user)
        except ValidationFailed as exc:
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".points", event_id=event.id))
    listed = events.user_points(current_user, event)
    return render_template("events/points.html", event=event, points=listed, errors=errors,
                           level_labels=LEVEL_LABELS, state_labels=events.STATE_LABELS), 400 if errors else 200


def task_note_text(last_error: str | None) -> dict[str, str]:
    """A task's stored note (`scheduling.task_note`) as {"text": a sentence in the reader's language,
    "detail": the technical part}; a note written before the codes is shown as it was."""
    if not last_error:
        return {"text": "", "detail": ""}
    code, _sep, detail = last_error.partition(": ")
    state = str(events.STATE_LABELS.get(detail, detail))
    sentences = {
        "moved_past": lambda: _("Not sent: its time had passed when the event was moved."),
        "not_planned": lambda: _("Withdrawn: the event's new settings no longer need it."),
        "event_state": lambda: _("Not run: the event is %(state)s.", state=state),
        "no_event": lambda: _("Not run: the event no longer exists."),
        "campaign_cancelled": lambda: _("Not run: the campaign was cancelled."),
        "recovered": lambda: _("Run again: the previous run was interrupted before it finished."),
        "past_grace": lambda: _("Found too late to be useful (the scheduler was not running at its time): "
                                "recorded as missed."),
        "failed": lambda: _("The task failed; the technical detail is below."),
    }
    if code not in sentences:
        return {"text": last_error, "detail": ""}
    return {"text": sentences[code](), "detail": "" if code == "event_state" else detail}


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    """Helpers for the events templates and the home-page section."""

    def upcoming_events() -> list:
        return events.upcoming_for(current_user) if current_user.is_authenticated else []

    def unread_notices() -> int:
        from launch.services.notifications import unread_count

        return unread_count(current_user) if current_user.is_authenticated else 0

    return {"timedelta_minutes": lambda m: timedelta(minutes=m or 0), "fmt_offset": events.format_offset,
            "upcoming_events": upcoming_events, "unread_notices": unread_notices,
            "event_state_labels": events.STATE_LABELS, "task_note_text": task_note_text}
