"""Reading the audit log: what each entry says in the reader's language, from what to what.

Entries keep a machine `action` and structured `details` (written by `audit.record`); this module
turns them into sentences. `summary` (English, written at the time) is the fallback for actions
without a sentence of their own. Apart from `audit` so that writing an entry imports nothing of the
features whose labels the reader needs.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from launch.clock import local_text, parse_local_dt
from launch.extensions import db
from launch.models import (
    ApiToken,
    Attendee,
    AuditEntry,
    Campaign,
    Event,
    EventPoint,
    NotificationChannel,
    Team,
    Unit,
    User,
)
from launch.services.campaigns.settings import LEVEL_LABELS
from launch.services.events.states import STATE_LABELS
from launch.services.teams import TEAM_LEVEL_LABELS
from launch.services.users import ROLE_LABELS

FIELD_LABELS = {
    "host_name": _l("Host name"), "host_phone": _l("Host phone"), "host_email": _l("Host e-mail"),
    "vc_endpoint": _l("Video-conference room or endpoint"), "expected_attendance": _l("Expected attendance"),
    "notes": _l("Notes"), "display_name": _l("Name"), "role": _l("Role"), "email": _l("E-mail"),
    "phone": _l("Phone"), "units": _l("Units"), "is_enabled": _l("Enabled"), "name": _l("Name"),
    "title": _l("Title"), "state": _l("State"), "unit": _l("Unit"), "level": _l("Level"), "members": _l("Members"),
    "url": _l("Address"), "host": _l("Mail server"), "port": _l("Port"), "sender": _l("Sender"),
    "starttls": _l("STARTTLS"), "username": _l("User name"),
    # An event's fields.
    "description": _l("Description"), "meeting_url": _l("Meeting link"), "meeting_id": _l("Meeting ID"),
    "meeting_passcode": _l("Passcode"), "test_window_minutes": _l("Connection test window"),
    "absence_grace_minutes": _l("Absence grace"), "reminder_offsets": _l("Reminders"), "start_dt": _l("Start"),
    "end_dt": _l("End"), "agenda": _l("Agenda"), "host_unit": _l("Host point"), "points": _l("Invited points"),
}


def _value(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key == "role":
        return str(ROLE_LABELS.get(value, value))
    if key == "reporting_level":
        return str(LEVEL_LABELS.get(value, value))
    if key == "level":
        return str(TEAM_LEVEL_LABELS.get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe_changes(changes: dict[str, Any]) -> str:
    """'Phone: 0912 → 0905; E-mail: — → a@b.vn' from {field: [old, new]}."""
    parts = []
    for key, pair in (changes or {}).items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            label = FIELD_LABELS.get(key, key)
            parts.append(f"{label}: {_value(key, pair[0])} → {_value(key, pair[1])}")
    return "; ".join(parts)


def target_names(entries: list[AuditEntry]) -> dict[tuple[str, int], str]:
    """The current name of each entry's target (unit, user, event), read in one query per kind."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.target_type and e.target_id:
            wanted.setdefault(e.target_type, set()).add(e.target_id)
    out: dict[tuple[str, int], str] = {}
    for kind, model, column in (("unit", Unit, Unit.name), ("user", User, User.username),
                                ("event", Event, Event.title), ("team", Team, Team.name),
                                ("notificationchannel", NotificationChannel, NotificationChannel.name),
                                ("apitoken", ApiToken, ApiToken.name), ("attendee", Attendee, Attendee.full_name),
                                ("campaign", Campaign, Campaign.name)):
        ids = wanted.get(kind)
        if ids:
            for row_id, name in db.session.execute(select(model.id, column).where(model.id.in_(ids))):
                out[(kind, row_id)] = name
    if ids := wanted.get("eventpoint"):
        stmt = select(EventPoint.id, Unit.name).join(Unit, Unit.id == EventPoint.unit_id)
        for row_id, name in db.session.execute(stmt.where(EventPoint.id.in_(ids))):
            out[("eventpoint", row_id)] = name
    return out


Sentences = dict[str, Callable[[], str]]


def _when(value: Any) -> str:
    """An ISO time of the details, as the reader's local date and time."""
    return local_text(parse_local_dt(value)) if value else "?"


def _account_sentences(d: dict[str, Any], target: str) -> Sentences:
    return {
        "user.created": lambda: _("Account %(name)s created (%(role)s)", name=d.get("username") or target,
                                  role=_value("role", d.get("role"))),
        "user.updated": lambda: _("Account %(name)s: %(changes)s", name=target,
                                  changes=describe_changes(d.get("changes"))),
        "user.disabled": lambda: _("Account %(name)s disabled", name=target),
        "user.enabled": lambda: _("Account %(name)s enabled", name=target),
        "user.password_reset": lambda: _("Password of %(name)s reset (a new link was printed)", name=target),
        "user.password_changed": lambda: _("Password of %(name)s changed; their sessions ended", name=target),
        "user.sessions_ended": lambda: _("Sessions of %(name)s ended", name=target),
        "user.invited": lambda: _("Link for %(name)s to set a password issued", name=target),
        "user.password_set": lambda: _("%(name)s set their password with their link", name=target),
        "auth.signed_out": lambda: _("%(name)s signed out", name=target),
        "accounts.onboarded": lambda: _("Hosts of %(event)s onboarded: %(created)d accounts created, %(invited)d "
                                        "links issued, %(skipped)d already in use", event=target,
                                        created=d.get("created", 0), invited=d.get("invited", 0),
                                        skipped=d.get("skipped", 0)),
    }


def _event_sentences(d: dict[str, Any], target: str) -> Sentences:
    def state_change() -> str:
        text = _("%(event)s: %(old)s → %(new)s", event=target, old=STATE_LABELS[d["from"]], new=STATE_LABELS[d["to"]])
        return f"{text} ({d['reason']})" if d.get("reason") else text

    return {
        "event.created": lambda: _("Event %(event)s created for %(when)s, %(n)d points invited", event=target,
                                   when=_when(d["start"]), n=d["invited"]),
        "event.state": state_change,
        "event.points_updated": lambda: _("%(event)s: %(n)d point settings changed", event=target, n=d["count"]),
        "event.updated": lambda: _("%(event)s: %(fields)s changed", event=target, fields=", ".join(
            str(FIELD_LABELS.get(k, k)) for k in d["changed"])) + (
            " " + _("(moved from %(when)s)", when=_when(d["from"][0])) if d.get("from") else ""),
        "checkin.site": lambda: _("%(point)s checked in with its QR code", point=target),
        "checkin.manual": lambda: (_("%(point)s checked in by hand: %(reason)s", point=target, reason=d["reason"])
                                   if d.get("reason") else _("%(point)s checked in by hand", point=target)),
        "checkin.qr_revoked": lambda: _("QR code of %(point)s withdrawn and a new one issued", point=target),
        "meeting.participant_assigned": lambda: _("Meeting participant %(name)s assigned to %(point)s",
                                                  name=d.get("name") or d.get("email") or "?", point=target),
    }


def _campaign_sentences(d: dict[str, Any], target: str) -> Sentences:
    def saved(created: bool) -> str:
        args = {"name": target, "n": d["units"], "level": _value("reporting_level", d["level"]),
                "start": _when(d["start"]), "end": _when(d["end"])}
        if created:
            return _("Campaign %(name)s created: %(n)d units (%(level)s), %(start)s – %(end)s", **args)
        return _("Campaign %(name)s changed: %(n)d units (%(level)s), %(start)s – %(end)s", **args)

    return {
        "campaign.created": lambda: saved(True),
        "campaign.updated": lambda: saved(False),
        "campaign.moved": lambda: _("Campaign %(name)s moved with its launch: %(start)s – %(end)s", name=target,
                                    start=_when(d["start"]), end=_when(d["end"])),
        "campaign.cancelled": lambda: _("Campaign %(name)s cancelled", name=target),
        "campaign.opened": lambda: _("Campaign %(name)s opened", name=target),
        "campaign.closed": lambda: _("Campaign %(name)s closed", name=target),
        "campaign.reported": lambda: _("Campaign %(name)s: unit %(unit)s reported for period %(n)d", name=target,
                                       unit=d["unit"], n=d["period"] + 1),
        "campaign.report_corrected": lambda: _("Campaign %(name)s: unit %(unit)s corrected its report for period "
                                               "%(n)d", name=target, unit=d["unit"], n=d["period"] + 1),
        "campaign.targets": lambda: _("Campaign %(name)s: %(n)d target overrides changed", name=target, n=len(d)),
    }


def _other_sentences(entry: AuditEntry, d: dict[str, Any], target: str) -> Sentences:
    name = d.get("name") or target
    return {
        "unit.updated": lambda: _("%(unit)s: %(changes)s", unit=target, changes=describe_changes(d.get("changes"))),
        "directory.imported": lambda: _("Directory imported: %(created)d units created, %(updated)d updated",
                                        created=d.get("created", 0), updated=d.get("updated", 0)),
        "teams.imported": lambda: _("Teams imported: %(created)d created, %(updated)d updated",
                                    created=d.get("created", 0), updated=d.get("updated", 0)),
        "team.created": lambda: _("Team %(name)s of %(unit)s created (%(members)d members)", name=name,
                                  unit=d.get("unit", ""), members=d.get("members", 0)),
        "team.updated": lambda: _("Team %(name)s: %(changes)s", name=name, changes=describe_changes(d.get("changes"))),
        "team.deleted": lambda: _("Team %(name)s of %(unit)s removed", name=name, unit=d.get("unit", "")),
        "roster.imported": lambda: _("Roster of %(event)s imported: %(created)d added, %(updated)d updated",
                                     event=target, created=d.get("created", 0), updated=d.get("updated", 0)),
        "badge.reissued": lambda: _("Badge of %(name)s replaced; the old one is refused", name=target),
        "api_token.created": lambda: _("API token %(name)s created", name=name),
        "api_token.revoked": lambda: _("API token %(name)s revoked", name=name),
        "channel.created": lambda: _("Notification channel %(name)s added", name=name),
        "channel.updated": lambda: (_("Notification channel %(name)s: %(changes)s", name=name,
                                      changes=describe_changes(d["changes"])) if d.get("changes")
                                    else _("Notification channel %(name)s saved unchanged", name=name)),
        "channel.deleted": lambda: _("Notification channel %(name)s removed", name=name),
        "notice.retried": lambda: _("A failed notice to %(recipient)s sent again", recipient=d["recipient"]),
        "auth.failed": lambda: _("Failed sign-in as %(name)s",
                                 name=re.search(r"for ['\"](.*)['\"]$", entry.summary).group(1)),  # type: ignore[union-attr]
    }


def describe(entry: AuditEntry, names: dict[tuple[str, int], str] | None = None) -> str:
    """What the entry says, in the reader's language (the stored English summary when no sentence fits)."""
    d = entry.details or {}
    target = (names or {}).get((entry.target_type or "", entry.target_id or 0), "")
    sentences = {**_account_sentences(d, target), **_event_sentences(d, target), **_campaign_sentences(d, target),
                 **_other_sentences(entry, d, target)}
    sentence = sentences.get(entry.action)
    if sentence is None:
        return entry.summary
    try:
        return sentence()
    except (AttributeError, KeyError, TypeError, ValueError):
        return entry.summary


def actor_label(actor: str) -> str:
    """Who acted: a user name, or the system itself / an anonymous visitor in words."""
    return {"system": _("the system"), "anonymous": _("anonymous")}.get(actor, actor)


ACTION_LABELS = {
    "api_token.created": _l("API token created"), "api_token.revoked": _l("API token revoked"),
    "auth.failed": _l("Failed sign-in"), "badge.reissued": _l("Badge replaced"),
    "campaign.cancelled": _l("Campaign cancelled"), "campaign.closed": _l("Campaign closed"),
    "campaign.created": _l("Campaign created"), "campaign.moved": _l("Campaign moved"),
    "campaign.opened": _l("Campaign opened"), "campaign.report_corrected": _l("Report corrected"),
    "campaign.reported": _l("Progress reported"), "campaign.targets": _l("Targets changed"),
    "campaign.updated": _l("Campaign changed"), "channel.created": _l("Channel added"),
    "channel.deleted": _l("Channel removed"), "channel.updated": _l("Channel changed"),
    "checkin.manual": _l("Checked in by hand"), "checkin.qr_revoked": _l("QR code withdrawn"),
    "checkin.refused": _l("Check-in refused"), "checkin.site": _l("Point checked in"),
    "directory.imported": _l("Directory imported"), "event.created": _l("Event created"),
    "event.points_updated": _l("Points changed"), "event.state": _l("Event state changed"),
    "event.updated": _l("Event changed"), "notice.retried": _l("Notice sent again"),
    "roster.imported": _l("Roster imported"), "team.created": _l("Team created"), "team.deleted": _l("Team removed"),
    "team.updated": _l("Team changed"), "teams.imported": _l("Teams imported"), "unit.updated": _l("Point changed"),
    "user.created": _l("Account created"), "user.updated": _l("Account changed"),
    "user.disabled": _l("Account disabled"), "user.enabled": _l("Account enabled"),
    "user.password_reset": _l("Password reset"), "user.sessions_ended": _l("Sessions ended"),
    "user.invited": _l("Link issued"), "user.password_set": _l("Password set"),
    "accounts.onboarded": _l("Hosts onboarded"), "auth.signed_out": _l("Signed out"),
    "user.password_changed": _l("Password changed"), "meeting.participant_assigned": _l("Participant assigned"),
}


def action_label(action: str) -> str:
    """An action in words (the machine name when it has none)."""
    return str(ACTION_LABELS.get(action, action))
