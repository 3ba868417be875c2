"""The JSON API /api/v1: site and attendee check-in and the host's reports, for the app's own pages
(session cookie + X-CSRFToken header) and for other scanners and the IOC's systems
(Authorization: Bearer <personal API token>, exempt from CSRF).

Every answer is {"ok": true|false, "code": ..., "message": ..., ...}, with the same machine codes as
the pages. The OpenAPI 3 description is served at /api/v1/openapi.json, the docs at /api/v1/docs.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from launch.extensions import csrf
from launch.models import EventPoint
from launch.services import api_tokens, checkin, events, host_view, roster
from launch.services.access import can_act_for, can_read_all, scoped_unit_ids
from launch.services.errors import DomainError, Forbidden
from launch.services.text import check_json_value
from launch.web.checkin import checkin_limit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRF is checked in `authenticate` below for cookie sessions only: a Bearer token is not ambient.
csrf.exempt(bp)


@bp.before_request
def authenticate() -> Any:
    """Bearer token first; else the session, whose writes must carry the CSRF token."""
    g.api_user = None
    g.api_bearer = False
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        user = api_tokens.authenticate_api_token(auth[7:].strip())
        if user is None:
            return jsonify({"ok": False, "code": "invalid_api_token",
                            "message": _("The API token is unknown or was revoked.")}), 401
        g.api_user, g.api_bearer = user, True
        return None
    if current_user.is_authenticated:
        g.api_user = current_user._get_current_object()
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
    return None


def api_auth(view: Callable) -> Callable:
    """Require a signed-in user or a valid token (401 JSON otherwise)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("api_user") is None:
            return jsonify({"ok": False, "code": "unauthorized", "message": _("Please sign in.")}), 401
        return view(*args, **kwargs)

    return wrapped


def _body() -> dict[str, Any]:
    """The JSON object sent (or the form); a body nested too deep or holding a lone surrogate is refused."""
    try:
        data = request.get_json(silent=True)
        check_json_value(data)
    except (RecursionError, ValueError):
        raise DomainError("invalid_input", _("The request body cannot be read: send a flat JSON object of "
                                             "text and numbers.")) from None
    if isinstance(data, dict):
        return data
    return request.form.to_dict()


def _readable_point(point_id: int) -> EventPoint:
    point = checkin.get_point(point_id)
    user = g.api_user
    if not (can_read_all(user) or can_act_for(user, point.unit_id)):
        raise Forbidden("not_your_point", _("You are not a host of %(point)s.", point=checkin.point_label(point)))
    return point


def _answer(result: checkin.CheckinResult, status: int = 200) -> Any:
    return jsonify(result.to_dict()), status


@bp.route("/site-checkins", methods=["POST"])
@api_auth
@checkin_limit
def site_checkin() -> Any:
    """Check a point in with its QR token."""
    body = _body()
    expected = body.get("event_id")
    try:
        expected = int(expected) if expected not in (None, "") else None
    except (TypeError, ValueError):
        expected = None
    result = checkin.check_in_site(str(body.get("token") or ""), g.api_user,
                                   method="api" if g.api_bearer else "qr", expected_event_id=expected)
    return _answer(result)


@bp.route("/points/<int:point_id>")
@api_auth
def point_status(point_id: int) -> Any:
    """A point's check-in facts."""
    point = _readable_point(point_id)
    return jsonify({"ok": True, "code": "point", "message": "", **checkin.point_state(point)})


@bp.route("/points/<int:point_id>/roster")
@api_auth
def point_roster(point_id: int) -> Any:
    """The people expected at the point (its unit and below), for the scanner to keep: offline search,
    the name of a badge scanned offline (`badge`: a fingerprint of its QR), who is checked in already.
    A signed-in page also gets a current CSRF token (a page reopened from the phone's copy may hold
    an old one)."""
    point = _readable_point(point_id)
    answer = {"ok": True, "code": "roster", "message": "", "event_id": point.event_id,
              "attendees": host_view.offline_roster(point)}
    if not g.api_bearer:
        answer["csrf_token"] = generate_csrf()
    return jsonify(answer)


@bp.route("/events/<int:event_id>/attendees")
@api_auth
def search_attendees(event_id: int) -> Any:
    """Search the roster by name (diacritics ignored): `?q=binh thanh`; a host, their units' people only."""
    event = events.get_event(event_id)
    user = g.api_user
    unit_ids = None
    if not can_read_all(user):
        scope = scoped_unit_ids(user) or set()
        if not any(p.unit_id in scope for p in event.points):
            raise Forbidden("forbidden", _("You have no point in this event."))
        # A host finds the people of their own units; the whole roster only when the operator allowed
        # walk-ins from other units (names and positions across the province are not every host's to read).
        unit_ids = None if event.allow_walk_ins else scope
    people = roster.search_attendees(event, request.args.get("q", "")[:100], unit_ids=unit_ids)
    return jsonify({"ok": True, "code": "attendees", "message": "", "attendees": [
        {"id": a.id, "name": a.full_name, "position": a.position, "unit": a.unit.name if a.unit else None}
        for a in people]})


@bp.route("/points/<int:point_id>/attendee-checkins", methods=["POST"])
@api_auth
@checkin_limit
def attendee_checkin(point_id: int) -> Any:
    """Check a person in at the point, by badge token or roster id; `client_id` makes retries safe."""
    point = checkin.get_point(point_id)
    body = _body()
    badge = body.get("badge") or None
    method = "api" if g.api_bearer else ("scan" if badge else "manual")
    result = checkin.check_in_attendee(point, g.api_user, client_id=str(body.get("client_id") or ""),
                                       badge=str(badge) if badge else None, attendee_id=body.get("attendee_id"),
                                       scanned_dt=body.get("scanned_dt"), method=method)
    return _answer(result)


@bp.route("/points/<int:point_id>/headcount", methods=["POST"])
@api_auth
@checkin_limit
def headcount(point_id: int) -> Any:
    """Report (or correct) the number of people in the room."""
    point = checkin.get_point(point_id)
    return _answer(checkin.report_headcount(point, g.api_user, _body().get("headcount")))


@bp.route("/points/<int:point_id>/connection-test", methods=["POST"])
@api_auth
@checkin_limit
def connection_test(point_id: int) -> Any:
    """Confirm the connection test."""
    point = checkin.get_point(point_id)
    return _answer(checkin.confirm_connection_test(point, g.api_user))


@bp.route("/points/<int:point_id>/problems", methods=["POST"])
@api_auth
@checkin_limit
def problems(point_id: int) -> Any:
    """Report a problem: kind no_audio | no_video | no_connection | other (+ text)."""
    point = checkin.get_point(point_id)
    body = _body()
    return _answer(checkin.report_problem(point, g.api_user, str(body.get("kind") or ""), body.get("text")))


@bp.route("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 description of this API (in English: tools read it)."""
    with force_locale("en"):
        return jsonify(openapi_spec())


@bp.route("/docs")
def docs() -> Any:
    """Human-readable API documentation in the reader's language, generated from the same description."""
    return render_template("api/docs.html", spec=openapi_spec())


@bp.app_template_filter("ticks")
def ticks_filter(text: str) -> Markup:
    """`code` spans of the description's prose as <code> (escaped)."""
    parts = str(text or "").split("`")
    return Markup("").join(Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def _ok(description: str, schema: str = "Answer") -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _refusal(description: str) -> dict[str, Any]:
    return _ok(description, "Refusal")


def _point_param() -> dict[str, Any]:
    return {"name": "point_id", "in": "path", "required": True, "schema": {"type": "integer"},
            "description": _("Event point id (one connection point in one event).")}


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _write_errors() -> dict[str, Any]:
    """The refusals every write may answer, by HTTP status."""
    return {
        "400": _refusal("invalid_token, invalid_input"),
        "401": _refusal("unauthorized, invalid_api_token"),
        "403": _refusal("not_your_point"),
        "404": _refusal("unknown_point, unknown_attendee"),
        "409": _refusal("already_checked_in, checked_in_elsewhere, wrong_event, not_yet_open, closed, "
                        "client_id_reused"),
        "410": _refusal("expired, revoked"),
        "429": _refusal("rate_limited"),
    }


def _paths() -> dict[str, Any]:
    """The API's operations."""
    write_errors = _write_errors()
    return {
        "/site-checkins": {"post": {
            "summary": _("Check a connection point in with its QR token"),
            "description": _("The token is the last path segment of the point's QR URL (`.../c/<token>`). "
                             "Once per point per event; a repeat answers `already_checked_in` with when and by "
                             "whom."),
            "requestBody": _json_body("SiteCheckin"),
            "responses": {"200": _ok("checked_in", "PointAnswer"), **write_errors},
        }},
        "/points/{point_id}": {"get": {
            "summary": _("A point's check-in state"), "parameters": [_point_param()],
            "responses": {"200": _ok("point", "PointAnswer"), "403": _refusal("not_your_point"),
                          "404": _refusal("unknown_point")},
        }},
        "/points/{point_id}/roster": {"get": {
            "summary": _("People expected at the point (its unit and the units below)"),
            "parameters": [_point_param()],
            "responses": {"200": _ok("roster", "AttendeeList")},
        }},
        "/events/{event_id}/attendees": {"get": {
            "summary": _("Search the event's roster by name (diacritics and case ignored)"),
            "parameters": [{"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                           {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _ok("attendees", "AttendeeList")},
        }},
        "/points/{point_id}/attendee-checkins": {"post": {
            "summary": _("Check a person in at a point (badge scan or roster id)"),
            "description": _("A person is counted once per event. A second scan at the same point answers "
                             "`already_checked_in`; at another point `checked_in_elsewhere` with where and when. "
                             "`scanned_dt` is the real scan time of a delayed (offline) scan, accepted within "
                             "the event's check-in window."),
            "parameters": [_point_param()], "requestBody": _json_body("AttendeeCheckin"),
            "responses": {"200": _ok("checked_in", "AttendeeAnswer"), **write_errors},
        }},
        "/points/{point_id}/headcount": {"post": {
            "summary": _("Report the headcount (walk-ins included)"), "parameters": [_point_param()],
            "requestBody": _json_body("Headcount"),
            "responses": {"200": _ok("headcount_saved", "PointAnswer"), **write_errors},
        }},
        "/points/{point_id}/connection-test": {"post": {
            "summary": _("Confirm the connection test"), "parameters": [_point_param()],
            "responses": {"200": _ok("connection_tested", "PointAnswer"), **write_errors},
        }},
        "/points/{point_id}/problems": {"post": {
            "summary": _("Report a problem to the IOC"), "parameters": [_point_param()],
            "requestBody": _json_body("Problem"),
            "responses": {"200": _ok("problem_reported", "PointAnswer"), **write_errors},
        }},
    }


def _schemas() -> dict[str, Any]:
    """The request and answer bodies."""
    codes = sorted(set(checkin.STATUS) | {"unauthorized", "invalid_api_token", "csrf_failed", "rate_limited",
                                          "forbidden"})
    return {
        "Answer": {"type": "object", "required": ["ok", "code", "message"], "properties": {
            "ok": {"type": "boolean"}, "code": {"type": "string"}, "message": {"type": "string"}}},
        "Refusal": {"allOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "object", "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "code": {"type": "string", "enum": codes},
            "checked_in_dt": {"type": "string", "format": "date-time"},
            "checked_in_by": {"type": "string", "nullable": True},
            "point": {"type": "string", "description": _("where the person was checked in first")},
        }}]},
        "SiteCheckin": {"type": "object", "required": ["token"], "properties": {
            "token": {"type": "string"},
            "event_id": {"type": "integer", "description": _("refuse with wrong_event if the token is "
                                                             "for another event")}}},
        "AttendeeCheckin": {"type": "object", "required": ["client_id"], "properties": {
            "client_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
                          "description": _("unique per scan (e.g. a UUID); a retry with it is recorded once")},
            "badge": {"type": "string", "description": _("the badge QR's content")},
            "attendee_id": {"type": "integer", "description": _("instead of badge: a roster id")},
            "scanned_dt": {"type": "string", "format": "date-time"}}},
        "Headcount": {"type": "object", "required": ["headcount"], "properties": {
            "headcount": {"type": "integer", "minimum": 0}}},
        "Problem": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"type": "string", "enum": ["no_audio", "no_video", "no_connection", "other"]},
            "text": {"type": "string", "description": _("required for other")}}},
        "PointAnswer": {"allOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "object", "properties": {
            "point": {"type": "object"}, "checked_in": {"type": "boolean"},
            "checked_in_dt": {"type": "string", "format": "date-time", "nullable": True},
            "checked_in_by": {"type": "string", "nullable": True},
            "headcount": {"type": "integer", "nullable": True},
            "connection_tested_dt": {"type": "string", "format": "date-time", "nullable": True},
            "attendees_checked_in": {"type": "integer"}}}]},
        "AttendeeAnswer": {"allOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "object", "properties": {
            "attendee": {"type": "object"}, "client_id": {"type": "string"},
            "scanned_dt": {"type": "string", "format": "date-time"},
            "recorded_dt": {"type": "string", "format": "date-time"},
            "replay": {"type": "boolean"}}}]},
        "AttendeeList": {"allOf": [{"$ref": "#/components/schemas/Answer"}, {"type": "object", "properties": {
            "attendees": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "position": {"type": "string", "nullable": True},
                "unit": {"type": "string", "nullable": True},
                "badge": {"type": "string", "description": "roster only: SHA-256 (first 20 hex) of the "
                          "person's badge QR text, to name a badge scanned offline"},
                "checked_in_dt": {"type": "string", "format": "date-time", "nullable": True,
                                  "description": "roster only: when the person was checked in"},
                "here": {"type": "boolean", "nullable": True,
                         "description": "roster only: checked in at this point"},
                "where": {"type": "string", "nullable": True,
                          "description": "roster only: the other point that checked the person in"}}}}}}]},
    }


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3.0 document in the current language: machine codes are the contract, the prose
    is for people (openapi.json is served in English, the docs page in the reader's language)."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": _("Launch manager check-in API"),
            "version": "1.0.0",
            "description": _(
                "Check connection points and attendees in, and report headcounts, connection tests and problems. "
                "Authenticate with a personal API token (`Authorization: Bearer qnl_...`, made on /c/api-tokens; "
                "acts with its owner's role and scope) or, from the app's own pages, with the session cookie plus "
                "the `X-CSRFToken` header. Every answer is JSON `{ok, code, message, ...}`; `code` is the "
                "machine-readable outcome, `message` is for people (Vietnamese or English). A retried attendee "
                "scan with the same `client_id` returns the first answer (`replay: true`) and records nothing new."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": _("Personal API token")},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": _("Browser session; writes also need the X-CSRFToken header")},
            },
            "schemas": _schemas(),
        },
    }
