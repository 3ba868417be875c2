"""In-app notices of the current user; operators: notification channels and the delivery log."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from launch.extensions import db
from launch.models import Notification, NotificationChannel
from launch.models.notifications import NOTIFICATION_STATUSES
from launch.services import notifications
from launch.services.errors import NotFound, ValidationFailed
from launch.web.access import operator_required, reader_required

bp = Blueprint("notices", __name__, url_prefix="/notices")

CHANNEL_FIELDS = ("url", "secret", "clear_secret", "host", "port", "sender", "starttls", "username", "password")


@bp.route("/")
@login_required
def index():  # noqa: ANN201
    """The user's in-app notices, newest first."""
    page = db.paginate(notifications.inbox_query(current_user), per_page=current_app.config["ITEMS_PER_PAGE"],
                       error_out=False)
    return render_template("notices/index.html", page=page)


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():  # noqa: ANN201
    """Mark one notice (notice_id) or all of them read."""
    notice_id = request.form.get("notice_id", type=int)
    notifications.mark_read(current_user, notice_id)
    return redirect(url_for(".index"))


@bp.route("/log")
@reader_required
def log():  # noqa: ANN201
    """Every notice sent (to whom, channel, when, result); failed ones first when asked (viewers read it)."""
    status = request.args.get("status") if request.args.get("status") in NOTIFICATION_STATUSES else None
    kind = request.args.get("kind") or None
    event_id = request.args.get("event_id", type=int)
    stmt = select(Notification).order_by(Notification.created_dt.desc(), Notification.id.desc())
    if status:
        stmt = stmt.where(Notification.status == status)
    if kind:
        stmt = stmt.where(Notification.channel_kind == kind)
    if event_id:
        stmt = stmt.where(Notification.event_id == event_id)
    page = db.paginate(stmt, per_page=current_app.config["ITEMS_PER_PAGE"], error_out=False)
    failed = db.session.scalar(select(db.func.count()).select_from(Notification)
                               .where(Notification.status == "failed"))
    skipped = db.session.scalar(select(db.func.count(db.distinct(Notification.user_id)))
                                .where(Notification.status == "skipped"))
    return render_template("notices/log.html", page=page, status=status, kind=kind, event_id=event_id,
                           statuses=NOTIFICATION_STATUSES, failed=failed, skipped=skipped,
                           error_text=notifications.error_text)


@bp.route("/log/<int:notice_id>/retry", methods=["POST"])
@operator_required
def retry(notice_id: int):  # noqa: ANN201
    """Queue a failed notice again."""
    notice = db.session.get(Notification, notice_id)
    if notice is None:
        raise NotFound("unknown_notice", _("This notice does not exist."))
    notifications.retry_notice(notice, actor=current_user)
    flash(_("The notice is queued again."), "success")
    return redirect(request.referrer or url_for(".log"))


def _channel_form() -> tuple[str, dict[str, Any], bool]:
    config = {key: request.form.get(key, "") for key in CHANNEL_FIELDS}
    config["starttls"] = request.form.get("starttls") == "1"
    config["clear_secret"] = request.form.get("clear_secret") == "1"
    return request.form.get("name", ""), config, request.form.get("is_enabled", "1") == "1"


@bp.route("/channels", methods=["GET", "POST"])
@operator_required
def channels():  # noqa: ANN201
    """The e-mail and webhook channels; in-app notices are always on."""
    errors: list = []
    if request.method == "POST":
        name, config, enabled = _channel_form()
        try:
            notifications.create_channel(request.form.get("kind", ""), name, config, is_enabled=enabled,
                                         actor=current_user)
        except ValidationFailed as exc:
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("The channel was added."), "success")
            return redirect(url_for(".channels"))
    rows = db.session.scalars(select(NotificationChannel).order_by(NotificationChannel.id)).all()
    return render_template("notices/channels.html", channels=rows, errors=errors, form=request.form), \
        400 if errors else 200


@bp.route("/channels/<int:channel_id>", methods=["GET", "POST"])
@operator_required
def channel(channel_id: int):  # noqa: ANN201
    """Edit a channel (a blank secret or password keeps the stored one)."""
    item = notifications.get_channel(channel_id)
    errors: list = []
    if request.method == "POST":
        name, config, enabled = _channel_form()
        try:
            notifications.update_channel(item, name, config, is_enabled=enabled, actor=current_user)
        except ValidationFailed as exc:
            errors = exc.errors
            flash(str(exc.message), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".channels"))
    return render_template("notices/channel.html", channel=item, errors=errors), 400 if errors else 200


@bp.route("/channels/<int:channel_id>/delete", methods=["POST"])
@operator_required
def delete_channel(channel_id: int):  # noqa: ANN201
    """Remove a channel (its log stays)."""
    notifications.delete_channel(notifications.get_channel(channel_id), actor=current_user)
    flash(_("The channel was removed."), "success")
    return redirect(url_for(".channels"))
