"""Helpers shared by the hardening tests (access matrix, CSRF, properties): no tests here.

* `snapshot()` — every row of every table except the audit log (refusals are audited on purpose),
  to prove a refused request wrote nothing, not even partially;
* `build_world()` — an event with the Bình Sơn points and Quảng Ngãi city, a campaign for Bình Sơn's
  communes, a team, a notification channel, a failed notice, a roster and an API token, so that
  every route of the app can be given a concrete URL.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from launch.extensions import db
from launch.models import Notification, Unit
from tests.support.checkin import CODES, DURING, START, add_attendee
from tests.support.factories import make_event, point_of

#: Tables a refused request may still write: the audit log records refusals (security events).
AUDITED = {"audit_entries"}


def snapshot() -> dict[str, list]:
    """Every row of every table (but the audit log), in a stable order."""
    db.session.rollback()
    out: dict[str, list] = {}
    for table in db.metadata.sorted_tables:
        if table.name in AUDITED:
            continue
        rows = db.session.execute(select(table)).all()
        out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    db.session.rollback()
    return out


def diff(before: dict[str, list], after: dict[str, list]) -> dict[str, int]:
    """Tables whose rows changed, with the change in row count (0 means rows were edited in place)."""
    return {name: len(after[name]) - len(rows) for name, rows in before.items() if after[name] != rows}


def unit_id(code: str) -> int:
    return db.session.scalar(select(Unit.id).where(Unit.code == code))


@dataclass
class World:
    """Ids of one prepared object of every kind a route can name."""

    event_id: int
    point_id: int  # Xã Bình Thạnh (21046): its host is "host"; Huyện Bình Sơn's host acts for it too
    other_point_id: int  # Thành phố Quảng Ngãi (522): "other_host"'s point
    district_id: int  # Huyện Bình Sơn (524)
    other_district_id: int  # Thành phố Quảng Ngãi (522)
    unit_id: int  # Xã Bình Thạnh (21046)
    campaign_id: int
    team_id: int
    channel_id: int
    notice_id: int
    token_id: int  # an API token of the Bình Thạnh host
    attendee_id: int
    site_token: str
    badge: str
    account_id: int = 0  # an account operators edit, disable and reset (Quảng Ngãi city's host)
    invite_secret: str = ""  # an invitation link of a host account that never signed in
    checkin_id: int = 0  # Lê Văn Cường checked in at the Bình Thạnh point (something to undo)
    problem_id: int = 0  # a problem reported at the Bình Thạnh point (something to mark resolved)


    def fmt(self, template: str) -> str:
        return template.format(**self.__dict__)


def build_world(users: dict[str, Any]) -> World:
    """Everything the access matrix and the CSRF test need (directory and users already loaded)."""
    from launch.services import api_tokens, checkin, notifications, tokens
    from launch.services import campaigns as campaign_svc
    from launch.services import teams as team_svc
    from tests.services.test_campaigns import TEAMS, campaign_data

    event = make_event(start_dt=START, unit_codes=CODES)
    point, other = point_of(event, "21046"), point_of(event, "522")
    person = add_attendee(event, "21046", name="Trần Thị Bình")
    team_svc.import_teams(TEAMS)
    team = team_svc.teams_query(district_id=unit_id("524")).limit(1)
    team_id = db.session.scalars(team).first().id
    campaign = campaign_svc.save_campaign(campaign_data(), actor=users["operator"])
    channel = notifications.create_channel("webhook", "IOC hook", {"url": "https://hooks.example.invalid/x"})
    notice = Notification(channel_kind="webhook", recipient="https://hooks.example.invalid/x", subject="s",
                          body="b", status="failed", event_id=event.id)
    db.session.add(notice)
    db.session.commit()
    token, _secret = api_tokens.create_api_token(users["commune_host"], "scanner")
    from launch.services import accounts

    _invited, invite_secret = accounts.create_account(
        {"username": "moi", "display_name": "Người phụ trách mới", "role": "host", "units": "21046"})
    second = add_attendee(event, "21046", name="Lê Văn Cường")
    scan = checkin.check_in_attendee(point, users["commune_host"], client_id="world-scan-0001",
                                     attendee_id=second.id, now=DURING)
    problem = checkin.report_problem(point, users["commune_host"], "no_video", now=DURING)
    return World(event_id=event.id, point_id=point.id, other_point_id=other.id, district_id=unit_id("524"),
                 other_district_id=unit_id("522"), unit_id=unit_id("21046"), campaign_id=campaign.id,
                 team_id=team_id, channel_id=channel.id, notice_id=notice.id, token_id=token.id,
                 attendee_id=person.id, site_token=tokens.site_token(point), badge=tokens.badge_token(person),
                 account_id=users["other_host"].id, invite_secret=invite_secret,
                 checkin_id=scan.data["checkin_id"], problem_id=problem.data["problem_id"])
