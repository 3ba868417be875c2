"""A form sent when the session had ended comes back after sign-in with what was typed in it.

A host types a headcount, the phone's session has ended (a restarted browser, a cleared cookie),
and the POST is refused: by sign-in (login_required) or by CSRF (the session's token is gone).
Instead of a 405 page after sign-in (the login's `next` was the POST-only address) the fields are
kept in a short-lived signed cookie (not the session: signing in starts a new session), the host
is sent to sign in with `next` = the page the form was on, and that page shows the form filled in
again (static/js/app.js fills it from #kept-form), to check and send once more. Nothing is
replayed by itself: a form is only ever sent by the host.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_url
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "launch_kept_form"
SALT = "launch.kept-form"
#: A kept form is offered back for this long (enough to find the password and sign in again).
MAX_AGE_SECONDS = 30 * 60
#: Never kept: secrets, and the CSRF token (the refilled form has its own).
SKIPPED = {"csrf_token", "_page", "password", "password2", "new_password", "current_password"}
MAX_FIELDS, MAX_VALUE = 30, 2000


def _serializer() -> URLSafeTimedSerializer:
    from flask import current_app

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _same_site_path(url: str | None) -> str | None:
    """The path (and query) of a URL on this site, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_of_form(*, or_itself: bool = False) -> str:
    """Where the form was: the page that sent it (the `_page` field app.js adds, else the Referer; same
    site only), else (`or_itself`) the form's own address when it can be opened, else the home page."""
    methods = (request.url_rule.methods or set()) if request.url_rule else set()
    for sent in (request.form.get("_page"), request.referrer):
        page = _same_site_path(sent)
        # The form's own page (the sign-in page with its `next`) only where it can be opened again.
        if page and (urlsplit(page).path != request.path or "GET" in methods):
            return page
    return request.path if or_itself and "GET" in methods else url_for("main.home")


def keep_posted_form(response: Response, back_to: str) -> Response:
    """Put the posted fields (no secrets) in the kept-form cookie of `response`, for `back_to`."""
    fields: dict[str, Any] = {}
    for key in list(request.form.keys())[:MAX_FIELDS]:
        if key in SKIPPED or "password" in key:
            continue
        values = [v[:MAX_VALUE] for v in request.form.getlist(key)]
        fields[key] = values if len(values) > 1 else values[0]
    if fields:
        token = _serializer().dumps({"action": request.path, "page": urlsplit(back_to).path, "fields": fields})
        response.set_cookie(COOKIE, token, max_age=MAX_AGE_SECONDS, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


def kept_form_for_page() -> dict[str, Any] | None:
    """The form kept for the page being shown, if any (once: the cookie is dropped after this page)."""
    token = request.cookies.get(COOKIE)
    if not token or request.method != "GET":
        return None
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        g.drop_kept_form = True
        return None
    if not isinstance(data, dict) or data.get("page") != request.path:
        return None
    g.drop_kept_form = True
    return {"action": data.get("action"), "fields": data.get("fields") or {},
            "note": _("What you typed before is filled in again: check it and send it.")}


def kept_form_json() -> str:
    """#kept-form's content (JSON, safe inside a script element) or ''."""
    kept = kept_form_for_page()
    if not kept:
        return ""
    return json.dumps(kept, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e") \
        .replace("&", "\\u0026")


def unauthorized() -> Response:
    """Not signed in: a page asks to sign in and comes back; a form also keeps what was typed."""
    from launch.web.headers import wants_json

    if wants_json():
        from flask import jsonify

        response = jsonify({"ok": False, "code": "unauthorized", "message": _("Please sign in.")})
        response.status_code = 401
        return response
    if request.method in ("GET", "HEAD"):
        # Only a page the user opened says so: a background fetch (the service worker keeping the
        # host page) must not write a session, whose cookie would replace the sign-in page's (and its
        # form token) when it arrives last.
        if request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate":
            flash(_("Please sign in to open this page."), "info")
        return redirect(login_url("auth.login", next_url=request.full_path.rstrip("?")))
    back_to = page_of_form(or_itself=True)
    flash(_("Your session had ended, so nothing was saved. Sign in again: what you typed is kept, "
            "check it and send it again."), "info")
    return keep_posted_form(redirect(login_url("auth.login", next_url=back_to)), back_to)


def init_kept_forms(app: Flask) -> None:
    """Answer unauthorized requests as above; drop the kept form once its page has shown it."""
    from launch.extensions import login_manager

    login_manager.unauthorized_handler(unauthorized)

    @app.after_request
    def drop_used_kept_form(response: Response) -> Response:
        if g.get("drop_kept_form"):
            response.delete_cookie(COOKIE)
        return response

    app.jinja_env.globals["kept_form_json"] = kept_form_json
