"""Operators' administration pages: the audit log, the accounts, and onboarding the hosts of an event.

Routes (blueprint "admin", /admin):
  GET       /admin/audit                              the audit log (operators, viewers)
  GET       /admin/users                              the accounts: search, role, state
  GET, POST /admin/users/new                          create an account (no password: an invitation link)
  GET, POST /admin/users/<id>                         edit name, role, e-mail, phone, units
  POST      /admin/users/<id>/disable | enable        disable (sessions end) or enable
  POST      /admin/users/<id>/reset                   reset the password: a new link, printed once
  POST      /admin/users/<id>/invite                  a new invitation link for an account never used
  GET, POST /admin/events/<id>/onboarding             the hosts of every point: preview, then accounts + links
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from launch.clock import utcnow
from launch.extensions import db
from launch.models import AuditEntry, User
from launch.models.users import ROLES
from launch.services import accounts, events, qr
from launch.services import audit_log as audit_text
from launch.services import onboarding as onboarding_svc
from launch.services.errors import DomainError, ValidationFailed
from launch.web.access import operator_required, reader_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACCOUNT_FIELDS = ("username", "display_name", "role", "email", "phone", "units", "password")
STATES = ("disabled", "never", "no_email")


@bp.route("/audit")
@reader_required
def audit_log():  # noqa: ANN201
    """Who changed what, when: newest first, filterable by action prefix (viewers read it too)."""
    action = request.args.get("action", "").strip()[:64]
    stmt = select(AuditEntry).order_by(AuditEntry.created_dt.desc(), AuditEntry.id.desc())
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    return render_template("admin/audit.html", page=page, action=action, describe=audit_text.describe,
                           action_label=audit_text.action_label, actor_label=audit_text.actor_label,
                           action_choices=sorted(((code, str(label))
                                                  for code, label in audit_text.ACTION_LABELS.items()),
                                                 key=lambda item: item[1]),
                           names=audit_text.target_names(page.items))


@bp.route("/users")
@operator_required
def users():  # noqa: ANN201
    """The accounts: who, role, units, how to reach them, whether they ever signed in."""
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    state = request.args.get("state") if request.args.get("state") in STATES else None
    page = db.paginate(accounts.accounts_query(q, role, state), per_page=current_app.config["ITEMS_PER_PAGE"],
                       error_out=False)
    links = accounts.open_invitations([u.id for u in page.items])
    return render_template("admin/users.html", page=page, q=q, role=role, state=state, roles=ROLES, links=links)


def _form(source: Any) -> dict[str, Any]:
    return {key: source.get(key, "") for key in ACCOUNT_FIELDS}


def _print_links(items: list[dict[str, Any]], title: str, event=None):  # noqa: ANN001, ANN202
    """The printable sheet of links (shown once: only the links' hashes are kept)."""
    for item in items:
        item["svg"] = qr.svg_inline(item["url"])
    return render_template("admin/invitations.html", items=items, title=title, event=event, now=utcnow())


def _link_item(user: User, secret: str, invitation=None) -> dict[str, Any]:  # noqa: ANN001
    invitation = invitation or accounts.find_invitation(secret)
    return {"user": user, "url": accounts.welcome_url(secret), "expires": invitation.expires_dt,
            "purpose": invitation.purpose, "unit": user.units[0] if user.units else None}


@bp.route("/users/new", methods=["GET", "POST"])
@operator_required
def create_user():  # noqa: ANN201
    """Create an account; leave the password empty to give its owner a link instead."""
    errors: list = []
    form: dict[str, Any] = {"role": request.args.get("role", "host")}
    if request.method == "POST":
        form = _form(request.form)
        try:
            user, secret = accounts.create_account(form, actor=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("The account %(name)s was created.", name=user.username), "success")
            if secret:
                return _print_links([_link_item(user, secret)], _("Invitation link for %(name)s", name=user.username))
            return redirect(url_for(".edit_user", user_id=user.id))
    return render_template("admin/user_form.html", user=None, form=form, errors=errors, roles=ROLES), \
        400 if errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@operator_required
def edit_user(user_id: int):  # noqa: ANN201
    """Edit an account; disable, enable, reset its password."""
    user = accounts.get_account(user_id)
    errors: list = []
    if request.method == "POST":
        form = _form(request.form)
        try:
            changes = accounts.update_account(user, form, actor=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("Saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    else:
        form = {"display_name": user.display_name, "role": user.role, "email": user.email or "",
                "phone": user.phone or "", "units": ", ".join(u.code for u in user.units)}
    link = accounts.open_invitations([user.id]).get(user.id)
    return render_template("admin/user_form.html", user=user, form=form, errors=errors, roles=ROLES, link=link), \
        400 if errors else 200


@bp.post("/users/<int:user_id>/disable")
@operator_required
def disable_user(user_id: int):  # noqa: ANN201
    """Disable an account: it cannot sign in, its sessions end, its links stop working."""
    user = accounts.get_account(user_id)
    try:
        accounts.set_enabled(user, False, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(_("%(name)s is disabled.", name=user.username), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/enable")
@operator_required
def enable_user(user_id: int):  # noqa: ANN201
    """Enable an account again."""
    user = accounts.get_account(user_id)
    accounts.set_enabled(user, True, actor=current_user)
    flash(_("%(name)s is enabled.", name=user.username), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/reset")
@operator_required
def reset_user(user_id: int):  # noqa: ANN201
    """Reset a password: the old one stops working and a one-time link lets its owner choose a new one."""
    user = accounts.get_account(user_id)
    try:
        secret = accounts.reset_password(user, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".edit_user", user_id=user.id))
    return _print_links([_link_item(user, secret)], _("New password link for %(name)s", name=user.username))


@bp.post("/users/<int:user_id>/invite")
@operator_required
def invite_user(user_id: int):  # noqa: ANN201
    """A new invitation link (the earlier ones stop working)."""
    user = accounts.get_account(user_id)
    if not user.is_enabled:
        flash(_("Enable the account first."), "error")
        return redirect(url_for(".edit_user", user_id=user.id))
    invitation, secret = accounts.issue_invitation(user, "invite", actor=current_user)
    db.session.commit()
    return _print_links([_link_item(user, secret, invitation)], _("Invitation link for %(name)s",
                                                                  name=user.username))


@bp.route("/events/<int:event_id>/onboarding", methods=["GET", "POST"])
@operator_required
def onboarding(event_id: int):  # noqa: ANN201
    """Every point host of an event from the directory: preview, then accounts and a printable sheet of links."""
    event = events.get_event(event_id)
    if request.method == "POST":
        rows = onboarding_svc.onboard_hosts(event, actor=current_user)
        issued = [r for r in rows if r.secret]
        flash(_("%(created)d accounts created, %(links)d invitation links issued; %(skipped)d hosts already "
                "use their account.", created=sum(1 for r in rows if r.action == "create"), links=len(issued),
                skipped=sum(1 for r in rows if r.action == "active")), "success")
        items = [{**_link_item(r.user, r.secret, r.invitation), "unit": r.unit, "warnings": r.warnings}
                 for r in issued]
        return _print_links(items, _("Invitation links: hosts of %(event)s", event=event.title), event=event)
    rows = onboarding_svc.onboarding_plan(event)
    counts = {action: sum(1 for r in rows if r.action == action) for action in onboarding_svc.ACTION_LABELS}
    return render_template("admin/onboarding.html", event=event, rows=rows, counts=counts,
                           action_labels=onboarding_svc.ACTION_LABELS)
