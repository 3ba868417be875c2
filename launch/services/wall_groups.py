"""The wall's groups: which groups an event has, and the group view of a national launch.

A national launch invites 3,356 points; its whole wall shows one tile per group (each province:
checked in / invited, attention counts) and the national IOC's own tile, never the points, so a
national viewer receives tens of kilobytes, not megabytes. A province's wall (drilling in) is an
ordinary group wall of points. Everything is read from the points' light columns in one query
(plus open problems and attendee check-ins, grouped), never as ORM objects.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from launch.clock import iso
from launch.extensions import db
from launch.models import AttendeeCheckin, EventPoint, PointProblem, Unit
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
    """Whether the event's whole wall is a group view (its points are grouped by province)."""
    return db.session.scalar(
        select(EventPoint.id).where(EventPoint.event_id == event_id, EventPoint.is_host.is_(False),
                                    EventPoint.group_level == NATIONAL_GROUP_LEVEL).limit(1)
    ) is not None


def point_rows(event_id: int) -> list[Any]:
    """Every point of the event as a light row (the facts the group view counts), in wall order."""
    return list(db.session.execute(
        select(EventPoint.id, EventPoint.unit_id, EventPoint.is_host, EventPoint.group_id, EventPoint.group_code,
               EventPoint.group_name, EventPoint.group_level, EventPoint.unit_code, EventPoint.unit_name,
               EventPoint.unit_level, EventPoint.checked_in_dt, EventPoint.absent_dt, EventPoint.last_seen_dt,
               EventPoint.in_call, EventPoint.headcount, EventPoint.expected_attendance)
        .where(EventPoint.event_id == event_id)
        .order_by(EventPoint.is_host.desc(), EventPoint.group_code, EventPoint.unit_code)
    ))


def _open_problems(event_id: int) -> set[int]:
    return set(db.session.scalars(
        select(PointProblem.event_point_id).join(EventPoint, EventPoint.id == PointProblem.event_point_id)
        .where(EventPoint.event_id == event_id, PointProblem.resolved_dt.is_(None)).distinct()))


def _attendees(event_id: int) -> dict[int, int]:
    return dict(db.session.execute(
        select(AttendeeCheckin.event_point_id, func.count(AttendeeCheckin.id))
        .join(EventPoint, EventPoint.id == AttendeeCheckin.event_point_id)
        .where(EventPoint.event_id == event_id).group_by(AttendeeCheckin.event_point_id)).all())


def _reason(row: Any, problems: set[int], lost: bool) -> str | None:
    """Why a point needs attention (problem, signal lost, not checked in), or None."""
    if row.id in problems:
        return "problem"
    if lost:
        return "signal_lost"
    if row.checked_in_dt is None and not row.is_host:
        return "not_checked_in"
    return None


def _blank_group(row: Any) -> dict[str, Any]:
    return {"id": row.group_id, "code": row.group_code or "", "name": row.group_name or "",
            "level": row.group_level or "", "invited": 0, "checked_in": 0, "absent": 0, "live": 0, "in_call": 0,
            "signal_lost": 0, "problems": 0, "attention": 0, "present": 0, "expected": 0}


def group_view_parts(event_id: int, now: datetime, timeout: timedelta, presence_applies: bool) -> dict[str, Any]:
    """The national wall's parts: group tiles, counters (as `wall.counters` shapes them), the
    attention list's first points (ids, in order, with reasons) and its length."""
    problems, attendees = _open_problems(event_id), _attendees(event_id)
    groups: dict[int, dict[str, Any]] = {}
    counters: dict[str, Any] = {"invited": 0, "checked_in": 0, "live": 0, "in_call": 0, "signal_lost": 0,
                                "problems": 0, "absent": 0, "attendees_present": 0, "attendees_expected": 0,
                                "attendee_checkins": 0, "levels": {}, "districts": []}
    ranked: list[tuple[int, int, int, str]] = []
    order = {"problem": 0, "signal_lost": 1, "not_checked_in": 2}
    for index, row in enumerate(point_rows(event_id)):
        live = bool(row.last_seen_dt and now - row.last_seen_dt <= timeout)
        lost = bool(presence_applies and row.last_seen_dt and not live)
        reason = _reason(row, problems, lost)
        n_att = attendees.get(row.id, 0)
        present = row.headcount if row.headcount is not None else n_att
        for bucket in (counters, None if row.is_host else groups.setdefault(row.group_id, _blank_group(row))):
            if bucket is None:
                continue
            bucket["live"] += live
            bucket["in_call"] += bool(row.in_call)
            bucket["signal_lost"] += lost
            bucket["problems"] += row.id in problems
            key = ("attendees_present", "attendees_expected") if bucket is counters else ("present", "expected")
            bucket[key[0]] += present
            bucket[key[1]] += row.expected_attendance or 0
            if not row.is_host:
                bucket["invited"] += 1
                bucket["checked_in"] += row.checked_in_dt is not None
                bucket["absent"] += row.absent_dt is not None and row.checked_in_dt is None
        counters["attendee_checkins"] += n_att
        if not row.is_host:
            level = counters["levels"].setdefault(row.unit_level or "", {"invited": 0, "checked_in": 0})
            level["invited"] += 1
            level["checked_in"] += row.checked_in_dt is not None
        if reason is not None:
            ranked.append((order[reason], index, row.id, reason))
            if not row.is_host:
                groups[row.group_id]["attention"] += 1
    tiles = sorted(groups.values(), key=lambda g: (g["code"], g["id"]))
    for g in tiles:
        g["status"] = _group_status(g)
    counters["districts"] = [{"id": g["id"], "name": g["name"], "level": g["level"], "invited": g["invited"],
                              "checked_in": g["checked_in"]} for g in tiles]
    ranked.sort()
    return {"groups": tiles, "counters": counters, "attention_total": len(ranked),
            "attention_ids": [(point_id, reason) for _r, _i, point_id, reason in ranked[:ATTENTION_LIMIT]]}


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
