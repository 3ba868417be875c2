"""Directory CSV files: every line checked first, then all written in one transaction.

Units are matched by (edition, level, code), so importing a file again changes nothing; a code a
spreadsheet stripped of its leading zeros is padded to its level's width; a commune's parent is
its district (2023) or its province (a two-level map).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.units import (
    CODE_WIDTHS,
    DIVISION_TYPES,
    DIVISION_TYPES_BY_LEVEL,
    LEGACY_EDITION,
    LEVELS,
    PARENT_LEVELS,
    normalize_code,
)
from launch.services import audit
from launch.services.csvfile import LineError, csv_lines, decode_csv_bytes, open_csv, refused
from launch.services.directory.editions import LEVEL_LABELS, PARENT_LABELS, check_edition_code, ensure_edition
from launch.services.directory.follow import open_points, tell_walls
from launch.services.text import fold

#: The bundled directory: Quảng Ngãi as of the 28 July 2023 launch (see launch/data/README.md).
BUNDLED_CSV = Path(__file__).resolve().parent.parent.parent / "data" / "quang-ngai-units-2023.csv"
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
    edition: str = LEGACY_EDITION
    #: (level, code) of the units that existed and changed: their events' open walls are told.
    updated_keys: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def parse_int(value: str) -> int | None:
    try:
        number = int(value.replace(".", "").replace(",", "").strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _check_code(raw: str, level: str, line: int, errors: list[LineError]) -> str | None:
    """The code at its level's width, or None with the problem in `errors`."""
    if not raw:
        errors.append(LineError(line, _("the code is empty"), "empty_code"))
        return None
    if level == "country":
        if not raw.isalnum() or len(raw) > 16:
            errors.append(LineError(line, _("the code %(code)s is not a number", code=raw), "bad_code"))
            return None
        return raw
    if not raw.isdigit():
        errors.append(LineError(line, _("the code %(code)s is not a number", code=raw), "bad_code"))
        return None
    width = CODE_WIDTHS.get(level)
    if width is None:
        return raw if len(raw) <= 16 else None
    if len(raw) > width:
        errors.append(LineError(
            line, _("the code %(code)s is too long for a %(level)s (%(n)d digits)", code=raw,
                    level=LEVEL_LABELS[level], n=width), "bad_code"))
        return None
    return normalize_code(raw, level)


def _check_names(row: dict[str, Any], level: str, line: int, errors: list[LineError]) -> None:
    """The name and the division type (one of its level's)."""
    if not row["name"]:
        errors.append(LineError(line, _("the name is empty"), "empty_name"))
    elif len(row["name"]) > 200:
        errors.append(LineError(line, _("the name is longer than 200 characters"), "too_long"))
    kind = " ".join(row["division_type"].lower().split())
    row["division_type"] = kind
    if kind not in DIVISION_TYPES:
        errors.append(LineError(line, _("unknown division type %(kind)s", kind=kind or "-"), "wrong_division_type"))
    elif level in LEVELS and kind not in DIVISION_TYPES_BY_LEVEL[level]:
        errors.append(LineError(
            line, _("a %(kind)s is not a %(level)s (a %(level)s is: %(kinds)s)", kind=kind,
                    level=LEVEL_LABELS[level], kinds=", ".join(DIVISION_TYPES_BY_LEVEL[level])),
            "wrong_division_type"))


def _check_optional(row: dict[str, Any], optional: list[str], line: int, errors: list[LineError]) -> None:
    """The optional connection-point columns: numbers and lengths."""
    if "expected_attendance" in optional and row["expected_attendance"]:
        number = parse_int(row["expected_attendance"])
        if number is None:
            message = _("expected attendance must be a whole number of 0 or more")
            errors.append(LineError(line, message, "bad_number"))
        row["expected_attendance"] = number
    for col, limit in EDITABLE_FIELDS.items():
        if col in optional and limit and len(row[col]) > limit:
            message = _("%(col)s is longer than %(n)d characters", col=col, n=limit)
            errors.append(LineError(line, message, "too_long"))
    row["_optional"] = optional


def _check_line(row: dict[str, Any], line: int, seen: dict[tuple[str, str], int], optional: list[str],
                errors: list[LineError]) -> None:
    """One line's own values (its parent is checked once every line is read)."""
    row["_line"] = line
    level = row["level"] = row["level"].lower()
    code = None
    if level not in LEVELS:
        errors.append(LineError(line, _("wrong level %(level)s (province, district or commune)", level=level or "-"),
                                "wrong_level"))
        if not row["code"]:
            errors.append(LineError(line, _("the code is empty"), "empty_code"))
    else:
        code = _check_code(row["code"], level, line, errors)
    if code is not None:
        row["code"] = code
        first = seen.get((level, code))
        if first is not None:
            errors.append(LineError(line, _("duplicate code %(code)s (first on line %(first)d)", code=code,
                                            first=first), "duplicate_code"))
        else:
            seen[(level, code)] = line
    row["_valid_code"] = code is not None
    _check_names(row, level, line, errors)
    _check_optional(row, optional, line, errors)


def _find_parent(row: dict[str, Any], known: set[tuple[str, str]], errors: list[LineError]) -> None:
    """Set row["parent"] = (level, code) of its parent in the file or the edition, or list the problem.

    A code at a level's exact width names that level; a shorter one (zeros dropped) is tried at
    each allowed level, the nearest first (a district before the province).
    """
    level, parent_code, line = row["level"], row["parent_code"], row["_line"]
    row["parent"] = None
    if level not in LEVELS or not row["_valid_code"]:
        return
    allowed = PARENT_LEVELS[level]
    if not parent_code:
        if level not in ("country", "province"):
            errors.append(LineError(line, _("the parent code is empty"), "unknown_parent"))
        return
    if not allowed:
        errors.append(LineError(line, _("a national unit has no parent (parent_code must be empty)"), "wrong_level"))
        return
    exact = [lv for lv in allowed if CODE_WIDTHS.get(lv) == len(parent_code)]
    order = exact + [lv for lv in allowed if lv not in exact]
    row["parent"] = next(((lv, normalize_code(parent_code, lv)) for lv in order
                          if (lv, normalize_code(parent_code, lv)) in known), None)
    if row["parent"] is not None:
        return
    elsewhere = [lv for lv in LEVELS if lv not in allowed and (lv, normalize_code(parent_code, lv)) in known]
    if elsewhere:
        errors.append(LineError(line, _(
            "wrong level: a %(level)s must be under a %(wanted)s, but %(code)s is a %(actual)s",
            level=LEVEL_LABELS[level], wanted=PARENT_LABELS[level], code=parent_code,
            actual=LEVEL_LABELS[elsewhere[0]]), "wrong_level"))
    else:
        errors.append(LineError(line, _("unknown parent %(code)s", code=parent_code), "unknown_parent"))


def parse_directory_csv(text: str, edition: str = LEGACY_EDITION) -> list[dict[str, Any]]:
    """Read and check every line; raise ValidationFailed listing all problems, or return the rows.

    Each row gets `code` at its level's width and `parent` = (level, code) of its parent (or None):
    in the file or already in this edition, at a level the map allows above it.
    """
    reader, header = open_csv(text, REQUIRED_COLUMNS)
    optional = [c for c in OPTIONAL_COLUMNS if c in header]
    errors: list[LineError] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_lines(reader, errors):
        _check_line(row, line, seen, optional, errors)
        rows.append(row)
    in_db = {(lv, c) for lv, c in db.session.execute(select(Unit.level, Unit.code).where(Unit.edition == edition))}
    known = set(seen) | in_db
    for row in rows:
        _find_parent(row, known, errors)
    if not rows and not errors:
        errors.append(LineError(1, _("the file has no units"), "empty_file"))
    if errors:
        raise refused(errors)
    return rows


def _apply_row(row: dict[str, Any], edition: str, by_key: dict[tuple[str, str], Unit], result: ImportResult) -> None:
    """Create or update one unit; a blank optional cell leaves what operators set."""
    parent = by_key.get(row["parent"]) if row["parent"] else None
    parent_id = parent.id if parent is not None else None
    values: dict[str, Any] = {"name": row["name"], "search_name": fold(row["name"]),
                              "division_type": row["division_type"]}
    for col in row.get("_optional", ()):
        if row[col] not in ("", None):
            values[col] = row[col]
    key = (row["level"], row["code"])
    unit = by_key.get(key)
    if unit is None:
        unit = Unit(edition=edition, code=row["code"], level=row["level"], parent_id=parent_id, **values)
        db.session.add(unit)
        by_key[key] = unit
        result.created += 1
        result.changed_codes.append(unit.code)
        return
    changed = [name for name, value in values.items() if getattr(unit, name) != value]
    for name in changed:
        setattr(unit, name, values[name])
    if unit.parent_id != parent_id:
        unit.parent_id = parent_id
        changed.append("parent_id")
    if changed:
        result.updated += 1
        result.changed_codes.append(unit.code)
        result.updated_keys.append(key)
    else:
        result.unchanged += 1


def write_units(rows: list[dict[str, Any]], edition: str, *, actor: User | None, source: str,
                data_date: str | None = None) -> ImportResult:
    """Create or update `rows` in `edition`, level by level, in one transaction (the caller checked them).

    A row: code, name, level, division_type, parent ((level, code) or None), `_optional` columns.
    Events that have not started yet follow the change; the others keep what they were held with.
    """
    from launch.services import hierarchy

    result = ImportResult(edition=edition)
    try:
        ensure_edition(edition, source=source, data_date=data_date)
        db.session.flush()
        by_key = {(u.level, u.code): u for u in db.session.scalars(select(Unit).where(Unit.edition == edition))}
        for level in LEVELS:  # parents first: each level's ids exist for the next one's rows
            for row in rows:
                if row["level"] == level:
                    _apply_row(row, edition, by_key, result)
            db.session.flush()
        points = open_points(by_key[k].id for k in result.updated_keys) if result.updated else []
        if result.created or result.updated:
            db.session.expire_all()  # parents set by id: relationships are read afresh
            hierarchy.refresh_open_events()
            audit.record(
                "directory.imported",
                f"directory import ({edition}) from {source}: {result.created} created, {result.updated} updated",
                user=actor,
                details={"edition": edition, "created": result.created, "updated": result.updated,
                         "codes": result.changed_codes[:200]},
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    tell_walls(points)
    return result


def import_directory(data: bytes | str, *, actor: User | None = None, source: str = "upload",
                     edition: str = LEGACY_EDITION) -> ImportResult:
    """Import a directory CSV into `edition`: every line checked first, then all written in one transaction."""
    edition = check_edition_code(edition)
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    rows = parse_directory_csv(text, edition)
    return write_units(rows, edition, actor=actor, source=source)


def import_bundled_directory(actor: User | None = None) -> ImportResult:
    """Load (or refresh) the bundled Quảng Ngãi directory (the 2023 map)."""
    return import_directory(BUNDLED_CSV.read_bytes(), actor=actor, source="bundled file")


