"""Who is told: the one place that finds the people a notice goes to.

Hosts are found through the units they act for (`user_units`), enabled accounts only, in account
order. A host of a unit above others (a district in 2023, a province at a national launch, the
national root) follows the units under it, whatever the map. The rules differ by notice and are
named here:

* `point_hosts`: an event's reminders and changes go to the hosts of each invited point's unit AND
  of every unit above it (a district host follows their communes, a provincial host theirs);
* `unit_hosts`: a campaign's reminders go to a unit's own hosts, or else to the nearest unit above
  it that has hosts;
* `area_hosts`: an escalation goes to the hosts of the nearest unit above (the parent unit's, else
  further up), or else to the operators (the IOC);
* `operators`: operational notices (readiness, absence, summaries).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from launch.extensions import db
from launch.models import EventPoint, Unit, User, user_units
from launch.services.hierarchy import MAX_DEPTH


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


def _ancestors(unit: Unit) -> list[int]:
    """The ids of the units above `unit`, nearest first (read through the relationships: the
    identity map serves the few parents many units share)."""
    out: list[int] = []
    current = unit.parent
    while current is not None and len(out) < MAX_DEPTH:
        out.append(current.id)
        current = current.parent
    return out


def unit_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None) -> list[User]:
    """The hosts of a unit: those assigned to it, or else those of the nearest unit above it that has any."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    if by_unit.get(unit.id):
        return list(by_unit[unit.id])
    return area_hosts(unit, by_unit, fallback=False)


def area_hosts(unit: Unit, by_unit: dict[int, list[User]] | None = None, *, fallback: bool = True) -> list[User]:
    """Who a missing report escalates to: the hosts of the nearest unit above `unit` (its district in
    2023, its province at a national launch), or else the operators (the IOC; none without `fallback`)."""
    by_unit = by_unit if by_unit is not None else hosts_by_unit()
    for unit_id in _ancestors(unit):
        if by_unit.get(unit_id):
            return list(by_unit[unit_id])
    return operators() if fallback else []


def point_hosts(points: Iterable[EventPoint]) -> dict[User, list[EventPoint]]:
    """Host users of the points (of the point's unit and of every unit above it) -> their points."""
    hosts = hosts_by_unit()
    out: dict[User, list[EventPoint]] = {}
    for point in points:
        for unit_id in (point.unit_id, *_ancestors(point.unit)):
            for user in hosts.get(unit_id, ()):
                mine = out.setdefault(user, [])
                if point not in mine:
                    mine.append(point)
    return out
