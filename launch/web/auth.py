"""Sign in, sign out, language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from launch.extensions import limiter
from launch.services import accounts, audit
from launch.services.errors import DomainError, ValidationFailed
from launch.services.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, authenticate, set_locale, sign_out
from launch.web.forms import LoginForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect, never a header break.

    Control characters (a CR/LF would split the Location header) and backslashes (browsers read
    `/\\evil.example` as `//evil.example`) are refused outright.
    """
    if not target or len(target) > 2000 or "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_key() -> str:
    """Per user name and address: a shared office address does not lock everyone out."""
    name = (request.form.get("username") or "").strip().lower()
    return f"login:{request.remote_addr}:{name}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=_login_key, methods=["POST"])
def login():  # noqa: ANN201
    """Sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            audit.record_now("auth.failed", f"failed sign-in for {form.username.data[:80]!r}",
                             actor="anonymous")
            flash(_("Wrong user name or password."), "error")
        else:
            lang = session.get("lang")
            session.clear()  # no session fixation: a fresh session, keeping only the language chosen
            if set_locale(user, lang):
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():  # noqa: ANN201
    """Sign out (POST, so a link elsewhere cannot sign you out): every copy of the session ends."""
    if current_user.is_authenticated:
        sign_out(current_user._get_current_object())
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str):  # noqa: ANN201
    """Switch the interface language and come back."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            set_locale(current_user, code)
    return redirect(safe_next(request.args.get("next")) or url_for("main.home"))


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, key_func=lambda: f"welcome:{request.remote_addr}", methods=["POST"])
def welcome(token: str):  # noqa: ANN201
    """An invitation or reset link: its owner chooses a password (once), then is signed in."""
    try:
        invitation = accounts.find_invitation(token)
    except DomainError as exc:
        return render_template("auth/welcome.html", refused=exc, invitation=None), exc.status
    errors: list = []
    if request.method == "POST":
        try:
            user = accounts.accept_invitation(token, request.form.get("password", ""),
                                              request.form.get("confirm", ""))
        except ValidationFailed as exc:
            errors = exc.errors
        except DomainError as exc:
            return render_template("auth/welcome.html", refused=exc, invitation=None), exc.status
        else:
            lang = session.get("lang")
            session.clear()  # no session fixation: a fresh session, keeping only the language chosen
            if set_locale(user, lang):
                session["lang"] = lang
            login_user(user)
            flash(_("Your password is set. Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(url_for("checkin.index") if user.is_host else url_for("main.home"))
    return render_template("auth/welcome.html", refused=None, invitation=invitation, user=invitation.user,
                           min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH,
                           errors=errors), 400 if errors else 200
