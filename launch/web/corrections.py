"""Corrections at a point (under /c, like the other check-in pages): undo a check-in, mark a problem
resolved, and the host page's "closing" beacon. Each answers JSON to the scanner and the wall
(Accept: application/json), else goes back to the page the form was on."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required

from launch.extensions import csrf
from launch.services import checkin, presence
from launch.services.access import can_act_for
from launch.services.errors import DomainError
from launch.web.auth import safe_next
from launch.web.checkin import checkin_limit
from launch.web.headers import wants_json

bp = Blueprint("corrections", __name__, url_prefix="/c")


def _answer(action: Any, back_to: str) -> Any:
    """Run `action` (a service call returning a CheckinResult); JSON, or a message and the page back."""
    try:
        result = action()
    except DomainError as exc:
        if wants_json():
            return jsonify(exc.to_dict()), exc.status
        if exc.status == 403:  # not theirs: the error page (403), not a message on a page they may not see
            raise
        flash(str(exc.message), "error")
        return redirect(safe_next(request.form.get("next")) or back_to)
    if wants_json():
        return jsonify(result.to_dict())
    flash(result.message, "success")
    return redirect(safe_next(request.form.get("next")) or back_to)


@bp.post("/checkins/<int:checkin_id>/undo")
@login_required
@checkin_limit
def undo_attendee(checkin_id: int) -> Any:
    """Undo a person's check-in (the host briefly after it, an operator any time)."""
    return _answer(lambda: checkin.undo_attendee_checkin(checkin_id, current_user), url_for("checkin.index"))


@bp.post("/points/<int:point_id>/undo-checkin")
@login_required
@checkin_limit
def undo_site(point_id: int) -> Any:
    """Undo the point's own check-in."""
    point = checkin.get_point(point_id)
    return _answer(lambda: checkin.undo_site_checkin(point, current_user),
                   url_for("checkin.host", point_id=point_id))


@bp.post("/points/<int:point_id>/problems/<int:problem_id>/resolve")
@login_required
@checkin_limit
def resolve(point_id: int, problem_id: int) -> Any:
    """Mark a reported problem resolved (the point's host or an operator)."""
    point = checkin.get_point(point_id)
    return _answer(lambda: checkin.resolve_problem(point, problem_id, current_user),
                   url_for("checkin.host", point_id=point_id))


@bp.post("/points/<int:point_id>/page-closed")
@csrf.exempt
@checkin_limit
def page_closed(point_id: int) -> Any:
    """The host page's pagehide beacon: the page is closing, the point shows quietly (not "signal lost").

    Sent by navigator.sendBeacon, which cannot carry a CSRF header, and possibly hours after the page's
    CSRF token was issued: so it is exempt, and proves itself instead by the signed-in host's session
    (SameSite=Lax: another site's page cannot send it with the cookie) or the page's presence token;
    a request another site's page made (Sec-Fetch-Site: cross-site) is refused outright. The service
    worker sends it on the page's behalf (templates/checkin/sw.js): left to the browser, the beacon of
    a page the worker controls was lost as the page unloaded.
    """
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        abort(403)
    point = presence.point_for_token(request.form.get("token"), point_id)
    if point is None:
        if not current_user.is_authenticated:
            abort(401)  # not a page: nobody to send to the sign-in form
        point = checkin.get_point(point_id)
        if not can_act_for(current_user, point.unit_id):
            abort(403)
    presence.record_page_closing(point.id)
    return "", 204
