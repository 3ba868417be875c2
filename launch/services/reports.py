"""The attendance record of an event: per point, per group, in total; timeline; exports.

A group is what the map puts between the event's root and its points (a district in 2023, a
province at a national launch; none for a two-level province's own launch): see
`launch.services.hierarchy`. Computed from stored facts only (EventPoint timestamps and the units
and groups frozen on them, attendee check-ins, problems, Activity), so it reads the same during
the event and long after, whatever the directory becomes.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from launch.clock import iso, utcnow
from launch.extensions import db
from launch.models import Activity, Event, EventPoint, PointProblem, User
from launch.services import exports
from launch.services.events.queries import get_event
from launch.services.hierarchy import HOST_GROUP, point_group_rows
from launch.services.wall import load_tiles

#: Machine values of a point's attendance. The host point (the IOC) runs the event: it is never
#: absent, late or on time, like it is not counted among the invited.
ON_TIME, LATE, ABSENT, PENDING, HOST = "on_time", "late", "absent", "pending", "host"
MAX_TIMELINE_MINUTES = 24 * 60


def method_label(method: str | None) -> str:
    """How a point was checked in, in words."""
    return {"qr": _("by QR code"), "manual": _("by hand (operator)"), "api": _("through the API")}.get(
        method or "", method or "")


def attendance_label(value: str) -> str:
    """On time / late / absent / not yet, in words."""
    return {ON_TIME: _("On time"), LATE: _("Late"), ABSENT: _("Absent"), PENDING: _("Not checked in yet"),
            HOST: _("Host point")}[value]


def problem_label(kind: str) -> str:
    """A problem kind in words."""
    return {"no_audio": _("No audio"), "no_video": _("No video"), "no_connection": _("No connection"),
            "other": _("Other problem")}.get(kind, kind)


def _attendance(event: Event, point: EventPoint, now: datetime) -> str:
    if point.is_host:
        return HOST
    if point.checked_in_dt is not None:
        return LATE if point.checked_in_dt > event.start_dt else ON_TIME
    deadline = event.start_dt + timedelta(minutes=event.absence_grace_minutes or 0)
    if point.absent_dt is not None or now > deadline or event.state in ("ended", "cancelled"):
        return ABSENT
    return PENDING


#: A group's level in words, as a column heading and as a roll-up sheet's name.
GROUP_HEADINGS = {"country": _l("National"), "province": _l("Province"), "district": _l("District")}
GROUP_SHEETS = {"province": _l("Provinces"), "district": _l("Districts")}
LEVEL_NAMES = {"country": _l("National"), "province": _l("Province"), "district": _l("District"),
               "commune": _l("Commune")}


def attendance_report(event_id: int, district_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Rows per point (wall order), roll-ups per group (`district_id` narrows to one) and in total,
    absent and late lists; `group_level` is None when the points have no group between them and
    the root (a two-level province's own launch: no district column)."""
    now = now or utcnow()
    event = get_event(event_id)
    tiles = {t["id"]: t for t in load_tiles(event, now=now)}
    points = {p.id: p for p in db.session.scalars(select(EventPoint).where(EventPoint.event_id == event.id))}
    users = dict(db.session.execute(
        select(User.id, User.display_name).join(EventPoint, EventPoint.checked_in_by_id == User.id)
        .where(EventPoint.event_id == event.id)).all())
    problems: dict[int, list[str]] = defaultdict(list)
    for point_id, kind in db.session.execute(
        select(PointProblem.event_point_id, PointProblem.kind).join(EventPoint)
        .where(EventPoint.event_id == event.id).order_by(PointProblem.reported_dt)
    ):
        problems[point_id].append(kind)
    rows = []
    for tile in sorted(tiles.values(), key=lambda t: t["order"]):
        if district_id is not None and tile["district_id"] != district_id:
            continue
        point = points[tile["id"]]
        call_seconds = point.call_seconds or 0
        if point.in_call and point.call_joined_dt:
            call_seconds += max(0, int((now - point.call_joined_dt).total_seconds()))
        attendance = _attendance(event, point, now)
        rows.append({
            "point_id": point.id, "code": tile["code"], "name": tile["name"], "level": tile["level"],
            "is_host": tile["is_host"], "district_id": tile["district_id"], "district_name": tile["district_name"],
            "checked_in_dt": point.checked_in_dt, "checkin_method": point.checkin_method,
            "checked_in_by": users.get(point.checked_in_by_id, ""), "attendance": attendance,
            "headcount": point.headcount, "attendee_checkins": tile["attendees"],
            "expected": tile["expected"], "problems": problems.get(point.id, []),
            "call_seconds": call_seconds, "in_call": bool(point.in_call), "status": tile["status"],
        })
    districts: dict[int, dict[str, Any]] = {}
    root_name = event.host_unit.name if event.host_unit is not None else _("Total")
    province = _blank_rollup(None, root_name)
    for row in rows:
        targets = [province]
        if row["district_id"] != HOST_GROUP:
            if row["district_id"] not in districts:
                districts[row["district_id"]] = _blank_rollup(row["district_id"], row["district_name"])
            targets.append(districts[row["district_id"]])
        for r in targets:
            _add(r, row)
    grouped = [t for t in tiles.values() if not t["is_host"] and t["district_id"] != event.host_unit_id]
    levels = sorted({t["group_level"] for t in grouped if t["group_level"]})
    if not grouped:
        districts = {}
    return {
        "event": event, "now": now, "district_id": district_id, "rows": rows,
        "group_level": (levels[0] if len(levels) == 1 else "mixed") if grouped else None,
        "districts": list(districts.values()), "province": province,
        "absent": [r for r in rows if r["attendance"] == ABSENT and not r["is_host"]],
        "late": [r for r in rows if r["attendance"] == LATE and not r["is_host"]],
    }


def _blank_rollup(district_id: int | None, name: str) -> dict[str, Any]:
    return {"district_id": district_id, "name": name, "invited": 0, "checked_in": 0, "on_time": 0, "late": 0,
            "absent": 0, "headcount": 0, "attendee_checkins": 0, "expected": 0, "problems": 0}


def _add(rollup: dict[str, Any], row: dict[str, Any]) -> None:
    rollup["headcount"] += row["headcount"] or 0
    rollup["attendee_checkins"] += row["attendee_checkins"]
    rollup["expected"] += row["expected"]
    rollup["problems"] += len(row["problems"])
    if row["is_host"]:
        return
    rollup["invited"] += 1
    rollup["checked_in"] += row["checked_in_dt"] is not None
    rollup[ON_TIME] += row["attendance"] == ON_TIME
    rollup[LATE] += row["attendance"] == LATE
    rollup[ABSENT] += row["attendance"] == ABSENT


def group_heading(report: dict[str, Any]) -> str | None:
    """The heading of the group column ("District", "Province"), None when the map has no group."""
    level = report.get("group_level", "district")
    if level is None:
        return None
    return str(GROUP_HEADINGS.get(level, _("Area")))


def export_headers(report: dict[str, Any] | None = None) -> list[str]:
    """Column headings of the CSV and XLSX exports (translated); the group column follows the map."""
    heading = group_heading(report) if report is not None else _("District")
    return [_("Code"), _("Connection point"), *([heading] if heading else []), _("Level"), _("Checked in at"),
            _("Checked in how"), _("Checked in by"), _("Attendance"), _("Headcount"), _("Attendee check-ins"),
            _("Expected"), _("Problems reported"), _("Minutes in the call")]


def export_rows(report: dict[str, Any]) -> list[list[Any]]:
    """One list per point, in the order of `export_headers` (times as datetimes: `exports` writes them)."""
    grouped = group_heading(report) is not None
    out = []
    for r in report["rows"]:
        group = ["" if r["is_host"] else r["district_name"]] if grouped else []
        out.append([
            r["code"], r["name"], *group, str(LEVEL_NAMES.get(r["level"], r["level"])),
            r["checked_in_dt"],
            method_label(r["checkin_method"]) if r["checked_in_dt"] else "", r["checked_in_by"],
            attendance_label(r["attendance"]), "" if r["headcount"] is None else r["headcount"],
            r["attendee_checkins"], r["expected"], "; ".join(problem_label(k) for k in r["problems"]),
            round(r["call_seconds"] / 60),
        ])
    return out


def to_csv(report: dict[str, Any]) -> bytes:
    """The report as UTF-8 CSV with a BOM (so spreadsheet programs read the Vietnamese right)."""
    return exports.csv_text(export_headers(report), export_rows(report), bom=True).encode("utf-8")


#: Column widths of the points sheet by heading (characters); the group column and numbers otherwise.
POINT_WIDTHS = {"Code": 10, "Connection point": 34, "Level": 10, "Checked in at": 17, "Checked in how": 20,
                "Checked in by": 22, "Attendance": 16, "Problems reported": 26}


def to_xlsx(report: dict[str, Any]) -> bytes:
    """The report as an Excel workbook: the points, then the roll-up per group (district, province)."""
    headers = export_headers(report)
    widths_by_heading = {_(key): width for key, width in POINT_WIDTHS.items()}
    widths = [widths_by_heading.get(h, 26 if index == 2 else 11) for index, h in enumerate(headers)]
    level = report.get("group_level", "district")
    rollup = [[d["name"], d["checked_in"], d["invited"], d["on_time"], d["late"], d["absent"], d["headcount"],
               d["expected"], d["problems"]] for d in [*report["districts"], report["province"]]]
    return exports.xlsx_bytes([
        exports.Sheet(_("Points"), headers, export_rows(report), widths=widths),
        exports.Sheet(str(GROUP_SHEETS.get(level or "", _("Total"))),
                      [group_heading(report) or _("Connection point"), _("Checked in"), _("Invited"), _("On time"),
                       _("Late"), _("Absent"), _("Headcount"), _("Expected"), _("Problems reported")],
                      rollup),
    ])


def timeline(event_id: int, district_id: int | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Minute by minute: points checked in, in the call, and with their host page live (replayed).

    With `district_id`, only that group's points (a district and its communes, a province at a
    national launch): what a district host's report shows.
    """
    now = now or utcnow()
    event = get_event(event_id)
    points = db.session.execute(
        select(EventPoint.id, EventPoint.checked_in_dt, EventPoint.is_host).where(EventPoint.event_id == event.id)
    ).all()
    if district_id is not None:
        groups = point_group_rows(event.id)
        points = [p for p in points if not p.is_host and groups[p.id].id == district_id]
    checkins = sorted(p.checked_in_dt for p in points if p.checked_in_dt and not p.is_host)
    kinds = ("call_joined", "call_left", "presence_connected", "presence_back", "presence_lost")
    activity_stmt = (select(Activity.event_point_id, Activity.kind, Activity.created_dt)
                     .where(Activity.event_id == event.id, Activity.event_point_id.is_not(None),
                            Activity.kind.in_(kinds))
                     .order_by(Activity.created_dt, Activity.id))
    if district_id is not None:
        activity_stmt = activity_stmt.where(Activity.event_point_id.in_([p.id for p in points] or [0]))
    activity = db.session.execute(activity_stmt).all()
    stamps = [*checkins, *(a.created_dt for a in activity)]
    start = event.start_dt - timedelta(minutes=event.test_window_minutes or 0)
    if stamps:
        start = min(start, min(stamps))
    end = min(max([event.end_dt, *stamps]), max(now, start))
    start = max(start, end - timedelta(minutes=MAX_TIMELINE_MINUTES - 1)).replace(second=0, microsecond=0)
    minutes = int((end - start).total_seconds() // 60) + 1
    labels, checked, in_call, live = [], [], [], []
    call_state: dict[int, bool] = {}
    page_state: dict[int, bool] = {}
    ci = ai = 0
    for m in range(max(minutes, 1)):
        edge = start + timedelta(minutes=m + 1)
        while ci < len(checkins) and checkins[ci] < edge:
            ci += 1
        while ai < len(activity) and activity[ai].created_dt < edge:
            a = activity[ai]
            if a.kind in ("call_joined", "call_left"):
                call_state[a.event_point_id] = a.kind == "call_joined"
            else:
                page_state[a.event_point_id] = a.kind != "presence_lost"
            ai += 1
        labels.append(iso(start + timedelta(minutes=m)))
        checked.append(ci)
        in_call.append(sum(call_state.values()))
        live.append(sum(page_state.values()))
    invited = sum(1 for p in points if not p.is_host)
    return {"event_id": event.id, "district_id": district_id, "invited": invited,
            "start_at": iso(event.start_dt), "labels": labels,
            "checked_in": checked, "in_call": in_call, "page_live": live}

