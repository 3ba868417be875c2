"""Check-in pages under /c: the point's QR address, the host page, the badge scanner, and the
operator's QR sheet, badges, roster import, manual check-in and QR withdrawal."""
from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from launch.extensions import db, limiter
from launch.models.checkins import PROBLEM_KINDS
from launch.services import api_tokens, checkin, events, host_view, presence, qr, roster, tokens, wall
from launch.services.access import can_act_for
from launch.services.errors import DomainError, ValidationFailed
from launch.services.text import small_int
from launch.web.access import operator_required, reader_required
from launch.web.forms import ImportForm

bp = Blueprint("checkin", __name__, url_prefix="/c")

PROBLEM_LABELS = {
    "no_audio": _l("No audio"),
    "no_video": _l("No video"),
    "no_connection": _l("No connection"),
    "other": _l("Other"),
}


def checkin_rate_limit() -> str:
    """The configured limit for check-in writes (generous: a real burst never trips it)."""
    return current_app.config["CHECKIN_RATE_LIMIT"]


def checkin_rate_key() -> str:
    """Per account, whatever it signs in with (session or any of its API tokens: a host can make as
    many tokens as they like, so a bucket per token would be no limit), else per QR token; never per
    address alone."""
    user = getattr(g, "api_user", None) or (current_user if current_user.is_authenticated else None)
    if user is not None:
        return f"checkin:user:{user.id}"
    token = (request.view_args or {}).get("token")
    if token:
        return "checkin:token:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    return f"checkin:ip:{request.remote_addr}"


checkin_limit = limiter.limit(checkin_rate_limit, key_func=checkin_rate_key, methods=["POST"])


def _point_for_host(point_id: int):
    point = checkin.get_point(point_id)
    if not can_act_for(current_user, point.unit_id):
        abort(403)
    return point


def _problem_labels() -> dict[str, str]:
    return {k: PROBLEM_LABELS[k] for k in PROBLEM_KINDS}


# --- the QR address and the host page -----------------------------------------------------------

@bp.route("/<token>", methods=["GET"])
@login_required
def site(token: str):  # noqa: ANN201
    """What a phone camera opens: the point, and one button to check it in (or why not)."""
    try:
        point = checkin.open_site_token(token, current_user)
    except DomainError as exc:
        return render_template("checkin/refused.html", code=exc.code, message=exc.message), exc.status
    if point.checked_in_dt is not None:
        return redirect(url_for(".host", point_id=point.id))
    return render_template("checkin/site.html", point=point, event=point.event, token=token,
                           label=checkin.point_label(point))


@bp.route("/<token>", methods=["POST"])
@login_required
@checkin_limit
def site_checkin(token: str):  # noqa: ANN201
    """Check the site in; the answer is the host page with the time, or the refusal."""
    try:
        result = checkin.check_in_site(token, current_user)
    except DomainError as exc:
        if exc.code == "already_checked_in":
            flash(str(exc.message), "info")
            return redirect(url_for(".host", point_id=exc.details["point_id"]))
        return render_template("checkin/refused.html", code=exc.code, message=exc.message), exc.status
    flash(result.message, "success")
    return redirect(url_for(".host", point_id=result.data["point"]["id"]))


@bp.route("/")
@login_required
def index():  # noqa: ANN201
    """My connection points in current and coming events."""
    return render_template("checkin/index.html", points=checkin.my_points(current_user),
                           label=checkin.point_label)


@bp.route("/points/<int:point_id>")
@login_required
def host(point_id: int):  # noqa: ANN201
    """The host page: check-in state, headcount, connection test, problems, link to the scanner."""
    point = _point_for_host(point_id)
    # The page's live connection presents a short-lived token issued to this host, never the printed QR.
    return render_template("checkin/host.html", point=point, event=point.event, state=checkin.point_state(point),
                           token=presence.presence_token(point, current_user), label=checkin.point_label(point),
                           problem_labels=_problem_labels(), vc=host_view.vc_details(point),
                           expected=host_view.expected_people(point), offline=_offline_config(point),
                           undo_site=checkin.may_undo(current_user, point, point.checked_in_dt),
                           problems=checkin.open_problems(point))


@bp.route("/points/<int:point_id>/headcount", methods=["POST"])
@login_required
@checkin_limit
def headcount(point_id: int):  # noqa: ANN201
    """Report (or correct) the headcount."""
    point = _point_for_host(point_id)
    try:
        result = checkin.report_headcount(point, current_user, request.form.get("headcount", ""))
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(result.message, "success")
    return redirect(url_for(".host", point_id=point_id))


@bp.route("/points/<int:point_id>/connection-test", methods=["POST"])
@login_required
@checkin_limit
def connection_test(point_id: int):  # noqa: ANN201
    """Confirm the connection test."""
    point = _point_for_host(point_id)
    try:
        result = checkin.confirm_connection_test(point, current_user)
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(result.message, "success")
    return redirect(url_for(".host", point_id=point_id))


@bp.route("/points/<int:point_id>/problem", methods=["POST"])
@login_required
@checkin_limit
def problem(point_id: int):  # noqa: ANN201
    """Report a problem to the IOC."""
    point = _point_for_host(point_id)
    try:
        result = checkin.report_problem(point, current_user, request.form.get("kind", ""), request.form.get("text"))
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(result.message, "success")
    return redirect(url_for(".host", point_id=point_id))


@bp.route("/points/<int:point_id>/scan")
@login_required
def scanner(point_id: int):  # noqa: ANN201
    """The badge scanner: camera, manual search, offline queue."""
    point = _point_for_host(point_id)
    library, wasm = SCANNER_LIBRARY
    config = {
        **_offline_config(point),
        "eventId": point.event_id,
        "checkinUrl": url_for("api.attendee_checkin", point_id=point.id),
        "searchUrl": url_for("api.search_attendees", event_id=point.event_id),
        "undoUrl": url_for("corrections.undo_attendee", checkin_id=0),  # /0/: the check-in's id goes there
        "undoMinutes": None if current_user.is_operator else checkin.undo_window().total_seconds() / 60,
        "vendor": url_for("static", filename=library),
        "wasm": url_for("static", filename=wasm),
    }
    return render_template("checkin/scanner.html", point=point, event=point.event, config=config,
                           label=checkin.point_label(point))


#: The scanner library (barcode-detector's ponyfill and its zxing engine): 1.1 MB, 370 KB as brotli.
SCANNER_LIBRARY = ("vendor/barcode-detector-3.2.2/ponyfill.js", "vendor/zxing-wasm-3.1.3/zxing_reader.wasm")
#: What the host and scanner pages load: the service worker keeps these.
CHECKIN_FILES = ("css/app.css", "css/checkin.css", "js/app.js", "js/offline-queue.js", "js/scanner.js",
                 "js/offline.js", "js/presence.js", "vendor/socket.io-client-4.8.4/socket.io.min.js")


def _offline_config(point) -> dict:  # noqa: ANN001
    """What the host and scanner pages need to keep the point's pages and roster on the phone."""
    return {
        "pointId": point.id,
        "sw": url_for(".service_worker"),
        "rosterUrl": url_for("api.point_roster", point_id=point.id),
        "keep": [url_for(".host", point_id=point.id), url_for(".scanner", point_id=point.id)],
    }


@bp.route("/sw.js")
def service_worker():  # noqa: ANN201
    """The check-in pages' service worker, served here so its scope covers /c/. Rendered with this
    deployment's hashed file names, so a new deployment is a new worker (never cached: no-cache)."""
    from launch.assets import assets_of

    body = render_template("checkin/sw.js", version=assets_of(current_app).version,
                           core=[url_for("static", filename=f) for f in CHECKIN_FILES],
                           library=[url_for("static", filename=f) for f in SCANNER_LIBRARY])
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- operators: points, QR codes, manual check-in, withdrawal ------------------------------------

@bp.route("/events/<int:event_id>")
@reader_required
def event_points(event_id: int):  # noqa: ANN201
    """Every point of an event with its check-in state and QR actions."""
    event = events.get_event(event_id)
    return render_template("checkin/event.html", event=event, points=checkin.event_points(event),
                           label=checkin.point_label, attendees=len(roster.event_attendees(event)))


@bp.route("/events/<int:event_id>/qr-sheet")
@operator_required
def qr_sheet(event_id: int):  # noqa: ANN201
    """The event's point QR codes on print-ready A4 pages (all, or one group's with ?district=: a
    district, a province of a national launch); marks them issued."""
    event = events.get_event(event_id)
    group_id = small_int(request.args.get("district", ""))
    groups = wall.event_groups(event.id)
    if group_id is not None and group_id not in {g["id"] for g in groups}:
        abort(404)
    points = checkin.sheet_points(event, group_id)
    # Everything the cards show is read before marking them issued (the commit expires the points).
    items = [{"id": p.id, "name": p.unit_name or p.unit.name, "url": (url := tokens.site_url(p)),
              "area": p.group_name if not p.is_host and p.group_id not in (p.unit_id, event.host_unit_id) else "",
              "svg": qr.svg_inline(url)} for p in points]
    checkin.mark_qr_issued(points)
    return render_template("checkin/qr_sheet.html", event=event, items=items, groups=groups,
                           group=next((g for g in groups if g["id"] == group_id), None))


@bp.route("/events/<int:event_id>/points/<int:point_id>/qr.<any(png, svg):kind>")
@operator_required
def point_qr(event_id: int, point_id: int, kind: str):  # noqa: ANN201
    """One point's QR as a PNG or SVG download; marks it issued."""
    point = checkin.get_point(point_id, event_id=event_id)
    url = tokens.site_url(point)
    body = qr.png_bytes(url) if kind == "png" else qr.svg_document(url)
    checkin.mark_qr_issued([point])
    filename = f"qr-event{event_id}-{point.unit.code}.{kind}"
    return Response(body, mimetype="image/png" if kind == "png" else "image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


@bp.route("/events/<int:event_id>/points/<int:point_id>/manual", methods=["GET", "POST"])
@operator_required
def manual(event_id: int, point_id: int):  # noqa: ANN201
    """Check a point in by hand (confirmed by phone), with a reason."""
    point = checkin.get_point(point_id, event_id=event_id)
    if request.method == "POST":
        try:
            result = checkin.manual_site_checkin(point, current_user, request.form.get("reason", ""))
        except DomainError as exc:
            flash(str(exc.message), "error" if exc.code != "already_checked_in" else "info")
            if exc.code == "reason_required":
                return render_template("checkin/manual.html", point=point, event=point.event,
                                       label=checkin.point_label(point)), 400
        else:
            flash(result.message, "success")
        return redirect(url_for(".event_points", event_id=event_id))
    return render_template("checkin/manual.html", point=point, event=point.event, label=checkin.point_label(point))


@bp.route("/events/<int:event_id>/points/<int:point_id>/revoke", methods=["POST"])
@operator_required
def revoke(event_id: int, point_id: int):  # noqa: ANN201
    """Withdraw a leaked QR and issue a new one for this point only."""
    point = checkin.get_point(point_id, event_id=event_id)
    checkin.revoke_point_qr(point, current_user)
    flash(_("The old QR code of %(point)s no longer works. Print or send the new one.",
            point=checkin.point_label(point)), "success")
    return redirect(url_for(".event_points", event_id=event_id))


# --- operators: roster and badges ---------------------------------------------------------------

@bp.route("/events/<int:event_id>/roster", methods=["GET", "POST"])
@operator_required
def roster_import(event_id: int):  # noqa: ANN201
    """Upload the roster CSV: refused whole with every bad line listed, or applied whole."""
    event = events.get_event(event_id)
    form = ImportForm()
    errors: list = []
    result = None
    if form.validate_on_submit():
        try:
            result = roster.import_roster(event, form.file.data.read(), actor=current_user)
        except ValidationFailed as exc:
            flash(str(exc.message), "error")
            errors = exc.errors
        else:
            flash(_("Roster imported: %(c)d added, %(u)d updated, %(n)d unchanged.",
                    c=result.created, u=result.updated, n=result.unchanged), "success")
    elif request.method == "POST":
        flash(_("Choose a CSV file to import."), "error")
    q = request.args.get("q", "").strip()[:100]
    page = db.paginate(roster.roster_query(event, q), per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    checkins = checkin.checkins_by_attendee(event.id, [a.id for a in page.items])
    return render_template("checkin/roster.html", event=event, form=form, errors=errors, result=result,
                           page=page, q=q, checkins=checkins, label=checkin.point_label), 400 if errors else 200


@bp.route("/events/<int:event_id>/badges")
@operator_required
def badges(event_id: int):  # noqa: ANN201
    """Personal badges (name, position, unit, QR) on A4 pages; `?unit=CODE` for one unit,
    `?attendee=ID` for one person (a reissued badge)."""
    event = events.get_event(event_id)
    unit = (request.args.get("unit") or "").strip()[:16] or None
    one = small_int(request.args.get("attendee"))
    people = [roster.get_attendee(event, one)] if one else roster.event_attendees(event, unit)
    items = [{"person": a, "svg": qr.svg_inline(tokens.badge_token(a), 3)} for a in people]
    return render_template("checkin/badges.html", event=event, items=items, unit=unit)


@bp.post("/events/<int:event_id>/attendees/<int:attendee_id>/reissue-badge")
@operator_required
def reissue_badge(event_id: int, attendee_id: int):  # noqa: ANN201
    """A lost badge: issue a new one (the old QR is refused from now on) and print it."""
    event = events.get_event(event_id)
    person = roster.reissue_badge(roster.get_attendee(event, attendee_id), actor=current_user)
    flash(_("%(name)s has a new badge: print it now. The old one no longer checks anyone in.",
            name=person.full_name), "success")
    return redirect(url_for(".badges", event_id=event.id, attendee=person.id))


# --- API tokens ---------------------------------------------------------------------------------

@bp.route("/api-tokens", methods=["GET", "POST"])
@login_required
def api_token_list():  # noqa: ANN201
    """Make and list personal API tokens (the secret is shown once)."""
    if not (current_user.is_operator or current_user.is_host):
        abort(403)
    secret = None
    if request.method == "POST":
        try:
            _token, secret = api_tokens.create_api_token(current_user, request.form.get("name", ""))
        except DomainError as exc:
            flash(str(exc.message), "error")
    return render_template("checkin/api_tokens.html", tokens=api_tokens.user_tokens(current_user), secret=secret)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def api_token_revoke(token_id: int):  # noqa: ANN201
    """Revoke one of my tokens."""
    api_tokens.revoke_api_token(token_id, current_user)
    flash(_("The token was revoked."), "success")
    return redirect(url_for(".api_token_list"))
