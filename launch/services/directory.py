"""The directory of connection points: CSV import (all or nothing), search, tree, edits."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, or_, select

from launch.extensions import db
from launch.models import Event, EventPoint, Unit, User
from launch.models.units import DIVISION_TYPES, LEVELS, PARENT_LEVEL
from launch.services import audit
from launch.services.csvfile import LineError, csv_lines, decode_csv_bytes, open_csv, refused
from launch.services.errors import NotFound, ValidationFailed
from launch.services.text import fold
from launch.signals import wall_change

#: Events that still read the directory: a change of a unit reaches their points and open walls.
_OVER = ("ended", "cancelled")

#: The bundled directory: Quảng Ngãi as of the 28 July 2023 launch (see launch/data/README.md).
#: Province first, then districts, then communes.
LEVEL_ORDER = case((Unit.level == "province", 0), (Unit.level == "district", 1), else_=2)
BUNDLED_CSV = Path(__file__).resolve().parent.parent / "data" / "quang-ngai-units-2023.csv"

LEVEL_LABELS = {
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
}
REQUIRED_COLUMNS = ("code", "name", "level", "division_type", "parent_code")
OPTIONAL_COLUMNS = ("host_name", "host_phone", "host_email", "vc_endpoint", "expected_attendance", "notes")
#: Fields an operator edits on a unit, with their maximum lengths (None: free text).
EDITABLE_FIELDS = {
    "host_name": 200,
    "host_phone": 40,
    "host_email": 200,
    "vc_endpoint": 300,
    "notes": None,
}


@dataclass
class ImportResult:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_codes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _parse_int(value: str) -> int | None:
    try:
        number = int(value.replace(".", "").replace(",", "").strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _check_line(row: dict[str, Any], line: int, optional: list[str], seen: dict[str, int],
                errors: list[LineError]) -> None:
    """One line's own problems (code, name, level, division type, numbers, lengths), into `errors`."""
    code, level = row["code"], row["level"]
    if not code:
        errors.append(LineError(line, _("the code is empty"), "empty_code"))
    elif not code.isdigit() or len(code) > 16:
        errors.append(LineError(line, _("the code %(code)s is not a number", code=code), "bad_code"))
    elif code in seen:
        errors.append(
            LineError(line, _("duplicate code %(code)s (first on line %(first)d)", code=code, first=seen[code]),
                      "duplicate_code")
        )
    else:
        seen[code] = line
    if not row["name"]:
        errors.append(LineError(line, _("the name is empty"), "empty_name"))
    elif len(row["name"]) > 200:
        errors.append(LineError(line, _("the name is longer than 200 characters"), "too_long"))
    if level not in LEVELS:
        errors.append(
            LineError(line, _("wrong level %(level)s (province, district or commune)", level=level or "-"),
                      "wrong_level")
        )
    if row["division_type"] not in DIVISION_TYPES:
        errors.append(
            LineError(line, _("unknown division type %(kind)s", kind=row["division_type"] or "-"),
                      "wrong_division_type")
        )
    if "expected_attendance" in optional and row["expected_attendance"]:
        number = _parse_int(row["expected_attendance"])
        if number is None:
            message = _("expected attendance must be a whole number of 0 or more")
            errors.append(LineError(line, message, "bad_number"))
        row["expected_attendance"] = number
    for col, limit in EDITABLE_FIELDS.items():
        if col in optional and limit and len(row[col]) > limit:
            message = _("%(col)s is longer than %(n)d characters", col=col, n=limit)
            errors.append(LineError(line, message, "too_long"))


def _check_parents(rows: list[dict[str, Any]], errors: list[LineError]) -> None:
    """Parents: in the file or already in the database, and exactly one level up."""
    file_levels = {r["code"]: r["level"] for r in rows}
    db_levels = dict(db.session.execute(select(Unit.code, Unit.level)).all())
    for row in rows:
        level, parent_code, line = row["level"], row["parent_code"], row["_line"]
        if level not in LEVELS:
            continue
        wanted = PARENT_LEVEL[level]
        if wanted is None:
            if parent_code:
                errors.append(LineError(line, _("a province has no parent (parent_code must be empty)"), "wrong_level"))
            continue
        if not parent_code:
            errors.append(LineError(line, _("the parent code is empty"), "unknown_parent"))
            continue
        parent_level = file_levels.get(parent_code) or db_levels.get(parent_code)
        if parent_level is None:
            errors.append(LineError(line, _("unknown parent %(code)s", code=parent_code), "unknown_parent"))
        elif parent_level != wanted:
            errors.append(
                LineError(
                    line,
                    _(
                        "wrong level: a %(level)s must be under a %(wanted)s, but %(code)s is a %(actual)s",
                        level=LEVEL_LABELS[level],
                        wanted=LEVEL_LABELS[wanted],
                        code=parent_code,
                        actual=LEVEL_LABELS[parent_level],
                    ),
                    "wrong_level",
                )
            )


def parse_directory_csv(text: str) -> list[dict[str, Any]]:
    """Read and check every line; raise ValidationFailed listing all problems, or return the rows."""
    reader, header = open_csv(text, REQUIRED_COLUMNS)
    optional = [c for c in OPTIONAL_COLUMNS if c in header]
    errors: list[LineError] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in csv_lines(reader, errors):
        row["_line"] = line
        _check_line(row, line, optional, seen, errors)
        row["_optional"] = optional
        rows.append(row)
    _check_parents(rows, errors)
    if not rows and not errors:
        errors.append(LineError(1, _("the file has no units"), "empty_file"))
    if errors:
        raise refused(errors)
    return rows


def import_directory(data: bytes | str, *, actor: User | None = None, source: str = "upload") -> ImportResult:
    """Import a directory CSV: every line checked first, then all written in one transaction."""
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    rows = parse_directory_csv(text)
    result = ImportResult()
    by_code = {u.code: u for u in db.session.scalars(select(Unit))}
    # Parents before children, so each row can point at an existing object.
    order = {level: i for i, level in enumerate(LEVELS)}
    try:
        for row in sorted(rows, key=lambda r: order[r["level"]]):
            unit = by_code.get(row["code"])
            values: dict[str, Any] = {
                "name": row["name"],
                "search_name": fold(row["name"]),
                "level": row["level"],
                "division_type": row["division_type"],
            }
            for col in row["_optional"]:
                if row[col] not in ("", None):  # a blank cell leaves what operators set
                    values[col] = row[col]
            parent = by_code.get(row["parent_code"]) if row["parent_code"] else None
            if unit is None:
                unit = Unit(code=row["code"], parent=parent, **values)
                db.session.add(unit)
                by_code[unit.code] = unit
                result.created += 1
                result.changed_codes.append(unit.code)
                continue
            changed = False
            for key, value in values.items():
                if getattr(unit, key) != value:
                    setattr(unit, key, value)
                    changed = True
            if unit.parent is not parent:
                unit.parent = parent
                changed = True
            if changed:
                result.updated += 1
                result.changed_codes.append(unit.code)
            else:
                result.unchanged += 1
        open_points = _open_points(by_code[c].id for c in result.changed_codes) if result.updated else []
        if result.created or result.updated:
            audit.record(
                "directory.imported",
                f"directory import from {source}: {result.created} created, {result.updated} updated",
                user=actor,
                details={"created": result.created, "updated": result.updated, "codes": result.changed_codes[:200]},
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _tell_walls(open_points)
    return result


def _open_points(unit_ids: Any) -> list[EventPoint]:
    """The points these units hold in events not yet over (scheduled, testing, live, or drafts)."""
    ids = [i for i in unit_ids if i is not None]
    if not ids:
        return []
    return list(db.session.scalars(select(EventPoint).join(Event, Event.id == EventPoint.event_id)
                                   .where(EventPoint.unit_id.in_(ids), Event.state.not_in(_OVER))))


def _tell_walls(points: list[EventPoint]) -> None:
    """After the commit: the open walls of those events redraw the points (name, host, phone)."""
    for event_id, point_id in sorted({(p.event_id, p.id) for p in points}):
        wall_change(event_id, "directory", point_id=point_id)


def import_bundled_directory(actor: User | None = None) -> ImportResult:
    """Load (or refresh) the bundled Quảng Ngãi directory."""
    return import_directory(BUNDLED_CSV.read_bytes(), actor=actor, source="bundled file")


def search_query(q: str | None = None, level: str | None = None, parent_id: int | None = None) -> Select:
    """A SELECT of units matching `q` (diacritics- and case-insensitive, every word), ordered by code."""
    stmt = select(Unit)
    for word in fold(q).split():
        stmt = stmt.where(or_(Unit.search_name.contains(word, autoescape=True), Unit.code == word))
    if level in LEVELS:
        stmt = stmt.where(Unit.level == level)
    if parent_id:
        stmt = stmt.where(or_(Unit.parent_id == parent_id, Unit.id == parent_id))
    return stmt.order_by(LEVEL_ORDER, Unit.code)


def search_units(q: str | None = None, level: str | None = None, limit: int | None = None) -> list[Unit]:
    """Units matching `q` (see `search_query`)."""
    stmt = search_query(q, level)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def unit_tree() -> list[dict[str, Any]]:
    """The directory as nested dicts {unit, children}, province first, in one query."""
    units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
    nodes = {u.id: {"unit": u, "children": []} for u in units}
    roots = []
    for unit in units:
        if unit.parent_id and unit.parent_id in nodes:
            nodes[unit.parent_id]["children"].append(nodes[unit.id])
        else:
            roots.append(nodes[unit.id])
    return roots


def get_unit(unit_id: int) -> Unit:
    """The unit or NotFound."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("unknown_unit", _("This unit does not exist."))
    return unit


def update_unit(unit: Unit, data: dict[str, Any], *, actor: User | None = None) -> list[str]:
    """Change a unit's connection-point details; audited with before/after. Returns changed fields."""
    errors: list[str] = []
    clean: dict[str, Any] = {}
    for key, limit in EDITABLE_FIELDS.items():
        if key not in data:
            continue
        value = (data[key] or "").strip() or None
        if value and limit and len(value) > limit:
            errors.append(_("%(col)s is longer than %(n)d characters", col=key, n=limit))
        clean[key] = value
    if "expected_attendance" in data:
        raw = data["expected_attendance"]
        number = raw if isinstance(raw, int) else _parse_int(str(raw or "0"))
        if number is None or number < 0 or number > 1_000_000:
            errors.append(_("expected attendance must be a whole number of 0 or more"))
        clean["expected_attendance"] = number
    if errors:
        raise ValidationFailed("invalid_unit", _("The unit was not saved."), errors=errors)
    changes = {k: [getattr(unit, k), v] for k, v in clean.items() if getattr(unit, k) != v}
    open_points = _open_points([unit.id]) if changes else []
    if "expected_attendance" in changes:
        # Events not yet over expect the new number, unless the event set its own for this point.
        old, new = changes["expected_attendance"]
        for point in open_points:
            if point.expected_attendance == (old or 0):
                point.expected_attendance = new or 0
    if changes:
        audit.record(
            "unit.updated",
            f"unit {unit.code} {unit.name}: {', '.join(changes)} changed",
            user=actor,
            target=unit,
            details={"changes": changes},
        )
        for key, (_old, new) in changes.items():
            setattr(unit, key, new)
    db.session.commit()
    _tell_walls(open_points)
    return list(changes)
