"""Who is told: the one place that finds the people a notice goes to.

Hosts are found through the units they act for (`user_units`), enabled accounts only, in account
order. The rules differ by notice and are named here:

* `point_hosts`: an event's reminders and changes go to the hosts of each invited point's unit AND
  of its district (a district host follows their communes);
* `unit_hosts`: a campaign's reminders go to a unit's own hosts, or else to its district's;
* `district_hosts`: an escalation goes to the district's hosts, or else to the operators;
* `operators`: operational notices (readiness, absence, summaries).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from launch.extensions import db
from launch.models import EventPoint, Unit, User, user_units


def operators() -> list[User]:
    """Enabled operator accounts (they receive the operational notices)."""
    return list(db.session.scalars(
        select(User).where(User.role == "operator", User.is_enabled.is_(True)).order_by(User.id)))


def hosts_by_unit() -> dict[int, list[User]]:
    """unit id -> the enabled hosts assigned directly to it, in account order (one query)."""
    rows = db.session.execute(
        select(user_units.c.unit_id, User).join(User, User.id == user_units.c.user_id)
        .where(User.role == "host", User.is_enabled.is_(True))
        .order_by(User.id)
    ).all()
    out: dict[int, list[User]] = defaultdict(list)
    for unit_id, user in rows:
        out[unit_id].append(user)
    return out


def unit_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None) -> list[User]:
    """The hosts of a unit: those assigned to it, or else those of its district."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    return list(by_unit.get(unit.id) or (by_unit.get(unit.parent_id, []) if unit.parent_id else []))


def district_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None) -> list[User]:
    """Who a missing report escalates to: the district's hosts (operators for a district unit or none)."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    if unit.level == "commune" and by_unit.get(unit.parent_id):
        return list(by_unit[unit.parent_id])
    return operators()


def point_hosts(points: Iterable[EventPoint]) -> dict[User, list[EventPoint]]:
    """Host users of the points (of the point's unit and of its district) -> their points."""
    hosts = hosts_by_unit()
    out: dict[User, list[EventPoint]] = {}
    for point in points:
        for unit_id in (point.unit_id, point.unit.parent_id):
            for user in hosts.get(unit_id, ()) if unit_id else ():
                mine = out.setdefault(user, [])
                if point not in mine:
                    mine.append(point)
    return out
