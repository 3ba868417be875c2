"""HTTP layer: blueprints parse input, call a service, render. Nothing here decides domain rules."""
from __future__ import annotations

from flask import Flask, abort, flash, jsonify, redirect, render_template, request
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

from launch.clock import to_local
from launch.services.errors import DomainError
from launch.services.text import MAX_ID
from launch.services.users import ROLE_LABELS
from launch.web.headers import wants_json

#: Statuses of scheduled tasks and notices, as the pages show them (the database keeps the word).
STATUS_LABELS = {"pending": _l("Waiting"), "running": _l("Running"), "done": _l("Done"), "missed": _l("Missed"),
                 "cancelled": _l("Cancelled"), "failed": _l("Failed"), "sending": _l("Sending"),
                 "sent": _l("Delivered"), "skipped": _l("Skipped")}
#: Notice channel kinds, as the pages show them.
CHANNEL_KIND_LABELS = {"inapp": _l("In the app"), "email": _l("E-mail"), "webhook": _l("Webhook")}


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` limited to a 32-bit INTEGER primary key (PostgreSQL's and SQLite's ids fit)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: ANN001
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register_web(app: Flask) -> None:
    """Register every blueprint, the error pages and the template helpers."""
    from launch.web import (
        admin,
        api,
        auth,
        campaigns,
        checkin,
        directory,
        events,
        kept_forms,
        main,
        notices,
        teams,
        wall,
    )

    # Ids in URLs fit the databases' INTEGER: /points/99999999999999999999 is a 404, not an overflow (500).
    app.url_map.converters["int"] = DatabaseIntConverter
    for module in (main, auth, directory, admin, events, notices, checkin, api, campaigns, teams, wall):
        app.register_blueprint(module.bp)
    kept_forms.init_kept_forms(app)
    _register_request_guards(app)
    _register_error_pages(app)
    _register_database_errors(app)
    _register_template_helpers(app)


def _register_request_guards(app: Flask) -> None:
    """Inputs no page could serve are refused before any view runs."""

    @app.before_request
    def bounded_page_number():
        """?page= past any list is a 404, not an OFFSET the database cannot hold (a 500)."""
        try:
            page = int(request.args.get("page") or 1)
        except ValueError:
            return None
        if page > 1_000_000:
            abort(404)
        return None


def _register_error_pages(app: Flask) -> None:
    """Refusals and HTTP errors: the error page in the user's language, or JSON for API clients."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return jsonify(exc.to_dict()), exc.status
        return render_template("error.html", code=exc.code, message=exc.message,
                               errors=getattr(exc, "errors", []), status=exc.status), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _("The form expired or was sent twice. Reload the page and try again; nothing was saved.")
        if wants_json():
            return jsonify({"ok": False, "code": "csrf_failed", "message": message}), 400
        flash(message, "error")
        from launch.web import kept_forms

        # The session (and its token) may be gone: the page comes back with the form filled in again.
        back_to = kept_forms.page_of_form()
        return kept_forms.keep_posted_form(redirect(back_to), back_to)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request was not understood."),
            401: _("Please sign in."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            413: _("The file is too large."),
            429: _("Too many attempts. Wait a minute and try again."),
        }
        message = messages.get(exc.code or 500, _("Something went wrong. Try again."))
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited"}.get(
            exc.code or 500, "http_error"
        )
        if wants_json():
            return jsonify({"ok": False, "code": code, "message": message}), exc.code
        return render_template("error.html", code=code, message=message, errors=[], status=exc.code), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        from launch.extensions import db

        db.session.rollback()  # nothing of a failed request is kept
        if isinstance(exc, (OverflowError, sa_exc.DataError)):
            # A number or text the database cannot hold (?district=9223372036854775808, NUL bytes on
            # PostgreSQL): the request is bad, not the server.
            return http_error(BadRequest())
        app.logger.exception("unhandled error")
        message = _("Something went wrong on our side; nothing was saved. Try again.")
        if wants_json():
            return jsonify({"ok": False, "code": "server_error", "message": message}), 500
        return render_template("error.html", code="server_error", message=message, errors=[], status=500), 500


def _register_database_errors(app: Flask) -> None:
    """A database away answers 503 "try again" (never a 500), and the app recovers by itself."""

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def database_unavailable(exc: Exception):
        """The database refused or dropped the connection (or the pool is exhausted): 503, try again.

        pool_pre_ping replaces dead connections, so the next request after the database is back works.
        The page cannot show who is signed in (that needs the database): it is rendered as anonymous.
        """
        import contextlib

        from flask import g

        from launch.extensions import db, login_manager

        app.logger.warning("database unavailable: %s", (str(exc).splitlines() or [type(exc).__name__])[0])
        with contextlib.suppress(Exception):  # the connection is gone; the session is reset on teardown
            db.session.rollback()
        g._login_user = login_manager.anonymous_user()
        message = _("The database is not answering. Try again in a moment; nothing was saved.")
        if wants_json():
            response = jsonify({"ok": False, "code": "database_unavailable", "message": message})
        else:
            response = app.make_response(render_template("error.html", code="database_unavailable",
                                                         message=message, errors=[], status=503))
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response


def _register_template_helpers(app: Flask) -> None:
    """Filters for dates, numbers and form inputs, and the globals every page reads."""

    @app.template_filter("dt")
    def dt_filter(value, fmt: str = "dd/MM/yyyy HH:mm") -> str:  # noqa: ANN001
        """A UTC datetime shown in Asia/Ho_Chi_Minh (Babel's timezone)."""
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("num")
    def num_filter(value) -> str:  # noqa: ANN001
        """A number with the locale's grouping (8.090 in Vietnamese)."""
        return format_decimal(value or 0)

    @app.template_filter("localinput")
    def local_input(value) -> str:  # noqa: ANN001
        """A value for <input type=datetime-local>, in local time."""
        local = to_local(value)
        return local.strftime("%Y-%m-%dT%H:%M") if local else ""

    @app.context_processor
    def inject_globals() -> dict:
        from flask_babel import get_locale

        return {
            "current_locale": str(get_locale() or "vi"),
            "url_map_endpoints": app.view_functions,
            "role_labels": ROLE_LABELS,
            "status_labels": STATUS_LABELS,
            "channel_kind_labels": CHANNEL_KIND_LABELS,
        }
