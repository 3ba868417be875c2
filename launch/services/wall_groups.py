"""The wall's groups: which groups an event has, and the group view of a national launch.

A national launch invites 3,356 points; its whole wall shows one tile per group (each province:
checked in / invited, attention counts) and the national IOC's own tile, never the points, so a
national viewer receives tens of kilobytes, not megabytes. A province's wall (drilling in) is an
ordinary group wall of points. Everything is read from the points' light columns in one query
(plus open problems and attendee check-ins, grouped), never as ORM objects.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, func, select

from launch.clock import iso
from launch.extensions import db
from launch.models import AttendeeCheckin, Event, EventPoint, PointProblem, Unit
from launch.services.hierarchy import HOST_GROUP

#: How many points the national attention list names (the count says how many need it in all).
ATTENTION_LIMIT = 30
#: The group level whose events get the group view on their whole wall.
NATIONAL_GROUP_LEVEL = "province"


def is_group(event_id: int, unit_id: int) -> bool:
    """Whether `unit_id` is one of the event's groups (it has a group wall: a district in 2023, a
    province at a national launch)."""
    return db.session.scalar(
        select(EventPoint.id).where(EventPoint.event_id == event_id, EventPoint.group_id == unit_id,
                                    EventPoint.is_host.is_(False)).limit(1)
    ) is not None


def event_groups(event_id: int) -> list[dict[str, Any]]:
    """The event's groups in wall order, each with its points counted (one SQL aggregate, no tiles):
    {id, code, name, level, invited, checked_in, absent}. The host point is not in any."""
    checked = func.sum(case((EventPoint.checked_in_dt.is_not(None), 1), else_=0))
    absent = func.sum(case(((EventPoint.absent_dt.is_not(None)) & (EventPoint.checked_in_dt.is_(None)), 1), else_=0))
    rows = db.session.execute(
        select(EventPoint.group_id, EventPoint.group_code, EventPoint.group_name, EventPoint.group_level,
               func.count(EventPoint.id), checked, absent)
        .where(EventPoint.event_id == event_id, EventPoint.is_host.is_(False), EventPoint.group_id.is_not(None))
        .group_by(EventPoint.group_id, EventPoint.group_code, EventPoint.group_name, EventPoint.group_level)
        .order_by(EventPoint.group_code, EventPoint.group_id)
    )
    return [{"id": gid, "code": code or "", "name": name or "", "level": level or "", "invited": n,
             "checked_in": int(c or 0), "absent": int(a or 0)} for gid, code, name, level, n, c, a in rows]


def is_national(event_id: int) -> bool:
    """Whether the event's whole wall is a group view: its points are grouped by provinces BELOW its
    host. A province's own launch on today's map groups its communes under the province itself
    (the host): that is one wall of points, not a national wall with a single province tile."""
    return db.session.scalar(
        select(EventPoint.id).join(Event, Event.id == EventPoint.event_id)
        .where(EventPoint.event_id == event_id, EventPoint.is_host.is_(False),
               EventPoint.group_level == NATIONAL_GROUP_LEVEL, EventPoint.group_id != Event.host_unit_id).limit(1)
    ) is not None


def _flag(condition: Any) -> Any:
    """1 where `condition` holds, else 0 (to be summed)."""
    return case((condition, 1), else_=0)


#: What the group query sums per group and level of point, in its column order.
SUM_KEYS = ("invited", "checked_in", "absent", "live", "in_call", "signal_lost", "problems", "attention", "present",
            "expected", "attendees")


@lru_cache(maxsize=2)
def _statements(presence_applies: bool) -> tuple[Any, Any]:
    """The group query and the attention query, built once per process (building the expressions
    costs more than running them); `event_id` and `cutoff` are bound at each call."""
    event_id, cutoff = bindparam("event_id"), bindparam("cutoff", type_=EventPoint.last_seen_dt.type)
    # Uncorrelated and materialised once (a correlated test per point costs more): open problems are
    # few at any time, attendee check-ins are read for this event only (indexed by event).
    problems = (select(PointProblem.event_point_id.label("pid")).where(PointProblem.resolved_dt.is_(None))
                .distinct().subquery())
    attendees = (select(AttendeeCheckin.event_point_id.label("pid"), func.count().label("n"))
                 .where(AttendeeCheckin.event_id == event_id).group_by(AttendeeCheckin.event_point_id).subquery())
    problem = problems.c.pid.is_not(None)
    n_attendees = func.coalesce(attendees.c.n, 0)
    lost = (EventPoint.last_seen_dt.is_not(None) & (EventPoint.last_seen_dt < cutoff)) if presence_applies \
        else (EventPoint.id < 0)
    waiting = EventPoint.checked_in_dt.is_(None) & EventPoint.is_host.is_(False)
    f = (
        select(EventPoint.id, EventPoint.group_id, EventPoint.group_code, EventPoint.group_name,
               EventPoint.group_level, EventPoint.unit_level, EventPoint.unit_code, EventPoint.unit_id,
               EventPoint.is_host,
               _flag(EventPoint.is_host.is_(False)).label("invited"),
               _flag(EventPoint.checked_in_dt.is_not(None) & EventPoint.is_host.is_(False)).label("checked_in"),
               _flag(EventPoint.absent_dt.is_not(None) & waiting).label("absent"),
               _flag(EventPoint.last_seen_dt >= cutoff).label("live"),
               _flag(EventPoint.in_call.is_(True)).label("in_call"),
               _flag(lost).label("lost"), _flag(problem).label("problem"),
               _flag(problem | lost | waiting).label("attention"),
               case((problem, 0), (lost, 1), else_=2).label("rank"),
               func.coalesce(EventPoint.headcount, n_attendees).label("present"),
               EventPoint.expected_attendance.label("expected"), n_attendees.label("attendees"))
        .outerjoin(problems, problems.c.pid == EventPoint.id).outerjoin(attendees, attendees.c.pid == EventPoint.id)
        .where(EventPoint.event_id == event_id)
    ).subquery()
    columns = (f.c.invited, f.c.checked_in, f.c.absent, f.c.live, f.c.in_call, f.c.lost, f.c.problem,
               f.c.attention, f.c.present, f.c.expected, f.c.attendees)
    keys = (f.c.group_id, f.c.group_code, f.c.group_name, f.c.group_level, f.c.unit_level)
    groups = select(*keys, *[func.sum(c) for c in columns]).group_by(*keys)
    attention = (select(f.c.id, f.c.rank).where(f.c.attention == 1)
                 .order_by(f.c.rank, f.c.is_host.desc(), f.c.group_code, _flag(f.c.unit_id != f.c.group_id),
                           f.c.unit_code)
                 .limit(ATTENTION_LIMIT))
    return groups, attention


def group_view_parts(event_id: int, now: datetime, timeout: timedelta, presence_applies: bool) -> dict[str, Any]:
    """The national wall's parts, summed by the database: group tiles, counters (as `wall.counters`
    shapes them), the attention list's first points (ids, in order, with reasons) and its length."""
    group_stmt, attention_stmt = _statements(presence_applies)
    params = {"event_id": event_id, "cutoff": now - timeout}
    by_group: dict[Any, dict[str, Any]] = {}
    levels: dict[str, dict[str, int]] = {}
    for row in db.session.execute(group_stmt, params):
        figures = {k: int(v or 0) for k, v in zip(SUM_KEYS, row[5:], strict=True)}
        group = by_group.setdefault(row.group_id, {"id": row.group_id, "code": row.group_code or "",
                                                   "name": row.group_name or "", "level": row.group_level or "",
                                                   **dict.fromkeys(SUM_KEYS, 0)})
        for k in SUM_KEYS:
            group[k] += figures[k]
        if figures["invited"]:  # per level of the points themselves (the host is not invited)
            level = levels.setdefault(row.unit_level or "", {"invited": 0, "checked_in": 0})
            level["invited"] += figures["invited"]
            level["checked_in"] += figures["checked_in"]
    total = {k: sum(g[k] for g in by_group.values()) for k in SUM_KEYS}
    # The host point (group 0) is in the totals, not a tile.
    groups = sorted((g for gid, g in by_group.items() if gid not in (None, HOST_GROUP)),
                    key=lambda g: (g["code"], g["id"]))
    for g in groups:
        g["status"] = _group_status(g)
    counters = {**{k: total[k] for k in ("invited", "checked_in", "live", "in_call", "signal_lost", "problems",
                                         "absent")},
                "attendees_present": total["present"], "attendees_expected": total["expected"],
                "attendee_checkins": total["attendees"], "levels": levels,
                "districts": [{"id": g["id"], "name": g["name"], "level": g["level"], "invited": g["invited"],
                               "checked_in": g["checked_in"]} for g in groups]}
    reasons = ("problem", "signal_lost", "not_checked_in")
    first = db.session.execute(attention_stmt, params).all()
    return {"groups": groups, "counters": counters, "attention_total": total["attention"],
            "attention_ids": [(point_id, reasons[rank]) for point_id, rank in first]}


def _group_status(group: dict[str, Any]) -> str:
    """A group tile's colour: problem > signal_lost > all checked in > some > none."""
    if group["problems"]:
        return "problem"
    if group["signal_lost"]:
        return "signal_lost"
    if group["invited"] and group["checked_in"] == group["invited"]:
        return "checked_in"
    return "tested" if group["checked_in"] else "invited"


def attention_entries(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """The named attention entries (as `wall.needs_attention` shapes them) for (point id, reason)."""
    ids = [point_id for point_id, _reason in items]
    if not ids:
        return []
    rows = {r.id: r for r in db.session.execute(
        select(EventPoint.id, EventPoint.unit_name, EventPoint.group_name, EventPoint.last_seen_dt, EventPoint.is_host,
               EventPoint.checked_in_dt, Unit.name.label("live_name"), Unit.host_name, Unit.host_phone)
        .join(Unit, Unit.id == EventPoint.unit_id).where(EventPoint.id.in_(ids)))}
    problems: dict[int, PointProblem] = {}
    for problem in db.session.scalars(select(PointProblem).where(PointProblem.event_point_id.in_(ids),
                                                                 PointProblem.resolved_dt.is_(None))
                                      .order_by(PointProblem.reported_dt, PointProblem.id)):
        problems[problem.event_point_id] = problem  # the newest wins
    out = []
    for point_id, reason in items:
        r, problem = rows[point_id], problems.get(point_id)
        out.append({
            "id": point_id, "name": r.unit_name or r.live_name, "district_name": "" if r.is_host else r.group_name,
            "status": reason if reason != "not_checked_in" else ("checked_in" if r.checked_in_dt else "invited"),
            "reason": reason, "host_name": r.host_name or "", "host_phone": r.host_phone or "",
            "last_seen_at": iso(r.last_seen_dt),
            "problem": {"kind": problem.kind, "text": problem.text or "", "at": iso(problem.reported_dt)}
            if problem else None,
        })
    return out


def groups_of_points(event_id: int, point_ids: set[int]) -> set[int]:
    """The groups (not the host's) the given points are in."""
    if not point_ids:
        return set()
    return {g for g in db.session.scalars(select(EventPoint.group_id).where(
        EventPoint.event_id == event_id, EventPoint.id.in_(point_ids), EventPoint.is_host.is_(False)))
        if g is not None and g != HOST_GROUP}


def host_point_id(event_id: int) -> int | None:
    """The event's host point (the IOC's), if it has one."""
    return db.session.scalar(select(EventPoint.id).where(EventPoint.event_id == event_id,
                                                         EventPoint.is_host.is_(True)).limit(1))
