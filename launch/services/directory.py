"""The directory of connection points: editions (maps), CSV import (all or nothing), search, tree, edits.

Two maps live side by side as editions (see `launch.models.units`): the 2023 three-level map (the
bundled Quảng Ngãi file, or any province's CSV) and today's two-level map (since 1 July 2025),
loaded from the `vietnam-provinces` package one province at a time or whole, under a national
root. Imports match units by (edition, level, code), so re-importing changes nothing, and a code a
spreadsheet stripped of its leading zeros is padded to its level's width.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select

from launch.extensions import db
from launch.models import Edition, Unit, User
from launch.models.units import (
    CODE_WIDTHS,
    COUNTRY_CODE,
    DIVISION_TYPES,
    DIVISION_TYPES_BY_LEVEL,
    LEGACY_EDITION,
    LEVELS,
    PARENT_LEVELS,
    normalize_code,
)
from launch.services import audit
from launch.services.csvfile import LineError, csv_lines, decode_csv_bytes, open_csv, refused
from launch.services.errors import DomainError, NotFound, ValidationFailed
from launch.services.text import fold

#: The bundled directory: Quảng Ngãi as of the 28 July 2023 launch (see launch/data/README.md).
BUNDLED_CSV = Path(__file__).resolve().parent.parent / "data" / "quang-ngai-units-2023.csv"
#: Today's map: the two-level one since 1 July 2025, from the `vietnam-provinces` package.
CURRENT_EDITION = "2025"
#: Editions the app knows how to describe; an import may create others (a code of its own).
KNOWN_EDITIONS = {
    LEGACY_EDITION: {
        "title": "Three-level map (GSO list of 2023-05-07)",
        "source": "vietnam-provinces 0.5.0 (GSO data 2023-05-07)",
        "data_date": "2023-05-07",
    },
    CURRENT_EDITION: {
        "title": "Two-level map (since 1 July 2025)",
        "source": "vietnam-provinces",  # completed with the installed version
        "data_date": None,
    },
}
EDITION_LABELS = {
    LEGACY_EDITION: _l("2023 map (province, district, commune)"),
    CURRENT_EDITION: _l("Today's map (since 1 July 2025: province, commune)"),
}
EDITION_CODE = re.compile(r"^[0-9A-Za-z_-]{1,16}$")
#: The national root of a national launch (the Government's bridge point, the national IOC).
COUNTRY_NAME = "Điểm cầu Trung ương (Trụ sở Chính phủ)"
COUNTRY_DIVISION_TYPE = "quốc gia"

#: Country first, then provinces, districts, communes.
LEVEL_ORDER = case(
    (Unit.level == "country", 0), (Unit.level == "province", 1), (Unit.level == "district", 2), else_=3
)
LEVEL_LABELS = {
    "country": _l("National"),
    "province": _l("Province"),
    "district": _l("District"),
    "commune": _l("Commune"),
}
#: What a level's parent may be, in words (the district level is optional).
PARENT_LABELS = {
    "province": _l("National unit"),
    "district": _l("Province"),
    "commune": _l("District or province"),
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
    edition: str = LEGACY_EDITION

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def edition_label(code: str) -> str:
    """An edition in words (its code when the app does not describe it)."""
    return str(EDITION_LABELS.get(code, code))


def editions() -> list[Edition]:
    """The editions present in the database, newest first."""
    return list(db.session.scalars(select(Edition).order_by(Edition.code.desc())))


def edition_counts() -> dict[str, dict[str, int]]:
    """{edition: {level: number of units}}."""
    out: dict[str, dict[str, int]] = {}
    for edition, level, n in db.session.execute(
        select(Unit.edition, Unit.level, func.count()).group_by(Unit.edition, Unit.level)
    ):
        out.setdefault(edition, {})[level] = n
    return out


def ensure_edition(code: str, *, source: str | None = None, data_date: str | None = None) -> Edition:
    """The edition `code`, created if missing; a known one gets its title, source and date."""
    known = KNOWN_EDITIONS.get(code, {})
    edition = db.session.get(Edition, code)
    if edition is None:
        edition = Edition(code=code, title=known.get("title") or code)
        db.session.add(edition)
    edition.source = source or edition.source or known.get("source")
    edition.data_date = data_date or edition.data_date or known.get("data_date")
    return edition


def check_edition_code(code: str | None) -> str:
    """The edition code, or DomainError if it is not 1-16 letters, digits, '-' or '_'."""
    code = (code or "").strip() or LEGACY_EDITION
    if not EDITION_CODE.match(code):
        raise DomainError("bad_edition", _("Unknown map edition %(code)s.", code=code[:40]))
    return code


def find_unit(ref: str, edition: str | None = None) -> Unit | None:
    """The unit a user names by code: `524`, `2025:51`; several editions: `edition`, else the newest.

    Codes are normalised per level (`1` finds province `01`, district `001` or commune `00001`,
    the highest level first).
    """
    ref = (ref or "").strip()
    if ":" in ref:
        edition, ref = ref.split(":", 1)
    if not ref or len(ref) > 16:
        return None
    candidates = {ref} | {normalize_code(ref, level) for level in CODE_WIDTHS}
    stmt = select(Unit).where(Unit.code.in_(candidates))
    if edition:
        stmt = stmt.where(Unit.edition == edition)
    units = list(db.session.scalars(stmt.order_by(Unit.edition.desc(), LEVEL_ORDER)))
    exact = [u for u in units if u.code == ref]
    pool = exact or units
    return pool[0] if pool else None


def code_candidates(code: str) -> list[str]:
    """`code` as written, then padded to each level's width (highest level first): how a code
    typed by a person or left by a spreadsheet is looked up."""
    code = (code or "").strip()
    out = [code]
    if code.isdigit():
        out += [normalize_code(code, level) for level in CODE_WIDTHS]
    return list(dict.fromkeys(out))


def edition_for_codes(codes: list[str]) -> str:
    """The edition a file of unit codes belongs to: the one holding most of them (the newest on a
    tie); the newest present when none matches. Codes alone are ambiguous across maps (hundreds of
    commune codes were kept in 2025 for other communes), so a file is read in one map."""
    candidates = {c for code in codes for c in code_candidates(code)}
    if not candidates:
        return default_edition()
    counts = db.session.execute(
        select(Unit.edition, func.count()).where(Unit.code.in_(candidates)).group_by(Unit.edition)
    ).all()
    if not counts:
        return default_edition()
    return max(counts, key=lambda row: (row[1], row[0]))[0]


def default_edition() -> str:
    """The newest edition present (the legacy one in an empty database)."""
    return db.session.scalar(select(Edition.code).order_by(Edition.code.desc()).limit(1)) or LEGACY_EDITION


def _parse_int(value: str) -> int | None:
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


def parse_directory_csv(text: str, edition: str = LEGACY_EDITION) -> list[dict[str, Any]]:
    """Read and check every line; raise ValidationFailed listing all problems, or return the rows.

    Each row gets `code` at its level's width and `parent` = (level, code) of its parent (or None).
    """
    reader, header = open_csv(text, REQUIRED_COLUMNS)
    optional = [c for c in OPTIONAL_COLUMNS if c in header]
    errors: list[LineError] = []
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_lines(reader, errors):
        row["_line"] = line
        level = row["level"].lower()
        row["level"] = level
        if level not in LEVELS:
            errors.append(
                LineError(line, _("wrong level %(level)s (province, district or commune)", level=level or "-"),
                          "wrong_level")
            )
            if not row["code"]:
                errors.append(LineError(line, _("the code is empty"), "empty_code"))
            code = None
        else:
            code = _check_code(row["code"], level, line, errors)
        if code is not None:
            row["code"] = code
            first = seen.get((level, code))
            if first is not None:
                errors.append(LineError(
                    line, _("duplicate code %(code)s (first on line %(first)d)", code=code, first=first),
                    "duplicate_code"))
            else:
                seen[(level, code)] = line
        if not row["name"]:
            errors.append(LineError(line, _("the name is empty"), "empty_name"))
        elif len(row["name"]) > 200:
            errors.append(LineError(line, _("the name is longer than 200 characters"), "too_long"))
        kind = " ".join(row["division_type"].lower().split())
        row["division_type"] = kind
        if kind not in DIVISION_TYPES:
            errors.append(
                LineError(line, _("unknown division type %(kind)s", kind=row["division_type"] or "-"),
                          "wrong_division_type")
            )
        elif level in LEVELS and kind not in DIVISION_TYPES_BY_LEVEL[level]:
            errors.append(LineError(
                line, _("a %(kind)s is not a %(level)s (a %(level)s is: %(kinds)s)", kind=kind,
                        level=LEVEL_LABELS[level], kinds=", ".join(DIVISION_TYPES_BY_LEVEL[level])),
                "wrong_division_type"))
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
        row["_optional"] = optional
        row["_valid_code"] = code is not None
        rows.append(row)

    # Parents: in the file or already in this edition, and a level above that the map allows.
    in_file = set(seen)
    in_db = {(lv, c) for lv, c in db.session.execute(select(Unit.level, Unit.code).where(Unit.edition == edition))}
    known = in_file | in_db
    for row in rows:
        level, parent_code, line = row["level"], row["parent_code"], row["_line"]
        row["parent"] = None
        if level not in LEVELS or not row["_valid_code"]:
            continue
        allowed = PARENT_LEVELS[level]
        if not parent_code:
            if level in ("country", "province"):
                continue
            errors.append(LineError(line, _("the parent code is empty"), "unknown_parent"))
            continue
        if not allowed:
            errors.append(LineError(line, _("a national unit has no parent (parent_code must be empty)"),
                                    "wrong_level"))
            continue
        # A code at a level's exact width names that level; a shorter one (zeros dropped) is tried
        # at each allowed level, the nearest first (a district before the province).
        exact = [lv for lv in allowed if CODE_WIDTHS.get(lv) == len(parent_code)]
        order = exact + [lv for lv in allowed if lv not in exact]
        found = next(((lv, normalize_code(parent_code, lv)) for lv in order
                      if (lv, normalize_code(parent_code, lv)) in known), None)
        if found is not None:
            row["parent"] = found
            continue
        elsewhere = [lv for lv in LEVELS if lv not in allowed and (lv, normalize_code(parent_code, lv)) in known]
        if elsewhere:
            errors.append(
                LineError(
                    line,
                    _(
                        "wrong level: a %(level)s must be under a %(wanted)s, but %(code)s is a %(actual)s",
                        level=LEVEL_LABELS[level],
                        wanted=PARENT_LABELS[level],
                        code=parent_code,
                        actual=LEVEL_LABELS[elsewhere[0]],
                    ),
                    "wrong_level",
                )
            )
        else:
            errors.append(LineError(line, _("unknown parent %(code)s", code=parent_code), "unknown_parent"))
    if not rows and not errors:
        errors.append(LineError(1, _("the file has no units"), "empty_file"))
    if errors:
        raise refused(errors)
    return rows


def _write_units(rows: list[dict[str, Any]], edition: str, *, actor: User | None, source: str,
                 data_date: str | None = None) -> ImportResult:
    """Create or update `rows` in `edition`, level by level, in one transaction (the caller checked them).

    A row: code, name, level, division_type, parent ((level, code) or None), `_optional` columns.
    A blank optional cell leaves what operators set.
    """
    from launch.services import hierarchy

    result = ImportResult(edition=edition)
    try:
        ensure_edition(edition, source=source, data_date=data_date)
        db.session.flush()
        by_key = {(u.level, u.code): u for u in db.session.scalars(select(Unit).where(Unit.edition == edition))}
        order = {level: i for i, level in enumerate(LEVELS)}
        for index, level in enumerate(LEVELS):
            for row in rows:
                if order[row["level"]] != index:
                    continue
                parent = by_key.get(row["parent"]) if row["parent"] else None
                parent_id = parent.id if parent is not None else None
                values: dict[str, Any] = {
                    "name": row["name"],
                    "search_name": fold(row["name"]),
                    "division_type": row["division_type"],
                }
                for col in row.get("_optional", ()):
                    if row[col] not in ("", None):
                        values[col] = row[col]
                key = (level, row["code"])
                unit = by_key.get(key)
                if unit is None:
                    unit = Unit(edition=edition, code=row["code"], level=level, parent_id=parent_id, **values)
                    db.session.add(unit)
                    by_key[key] = unit
                    result.created += 1
                    result.changed_codes.append(unit.code)
                    continue
                changed = False
                for name, value in values.items():
                    if getattr(unit, name) != value:
                        setattr(unit, name, value)
                        changed = True
                if unit.parent_id != parent_id:
                    unit.parent_id = parent_id
                    changed = True
                if changed:
                    result.updated += 1
                    result.changed_codes.append(unit.code)
                else:
                    result.unchanged += 1
            db.session.flush()  # this level's ids, for the next level's parents
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
    return result


def import_directory(data: bytes | str, *, actor: User | None = None, source: str = "upload",
                     edition: str = LEGACY_EDITION) -> ImportResult:
    """Import a directory CSV into `edition`: every line checked first, then all written in one transaction."""
    edition = check_edition_code(edition)
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    rows = parse_directory_csv(text, edition)
    return _write_units(rows, edition, actor=actor, source=source)


def import_bundled_directory(actor: User | None = None) -> ImportResult:
    """Load (or refresh) the bundled Quảng Ngãi directory (the 2023 map)."""
    return import_directory(BUNDLED_CSV.read_bytes(), actor=actor, source="bundled file")


# --- Today's map, from the `vietnam-provinces` package ---------------------------------------------


@lru_cache(maxsize=1)
def _package_data() -> tuple[str, str, tuple[dict[str, Any], ...]]:
    """(package version, data date, provinces with their wards) of the installed `vietnam-provinces`."""
    import vietnam_provinces

    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    return vietnam_provinces.__version__, vietnam_provinces.__data_version__, tuple(provinces)


def package_source() -> tuple[str, str]:
    """('vietnam-provinces X.Y.Z', data date) of today's map."""
    version, data_date, _provinces = _package_data()
    return f"vietnam-provinces {version}", data_date


def province_display_name(name: str, division_type: str) -> str:
    """'Quảng Ngãi' (tỉnh) -> 'Tỉnh Quảng Ngãi'; a city's name already says 'Thành phố'."""
    if division_type == "tỉnh" and not fold(name).startswith("tinh "):
        return f"Tỉnh {name}"
    return name


def package_provinces() -> list[tuple[str, str, int]]:
    """(code, name, number of communes) of every province of today's map."""
    _version, _date, provinces = _package_data()
    return [(normalize_code(str(p["code"]), "province"), province_display_name(p["name"], p["division_type"]),
             len(p["wards"])) for p in provinces]


def package_rows(province: str | None = None) -> list[dict[str, Any]]:
    """Rows of today's map: one province (its IOC and communes) or, with None, the whole country
    under the national root."""
    _version, _date, provinces = _package_data()
    rows: list[dict[str, Any]] = []
    country_loaded = province is None or db.session.scalar(
        select(Unit.id).where(Unit.edition == CURRENT_EDITION, Unit.level == "country", Unit.code == COUNTRY_CODE)
    ) is not None
    if province is None:
        rows.append({"code": COUNTRY_CODE, "name": COUNTRY_NAME, "level": "country",
                     "division_type": COUNTRY_DIVISION_TYPE, "parent": None})
    wanted = normalize_code(province, "province") if province is not None else None
    for p in provinces:
        code = normalize_code(str(p["code"]), "province")
        if wanted is not None and code != wanted:
            continue
        rows.append({"code": code, "name": province_display_name(p["name"], p["division_type"]), "level": "province",
                     "division_type": p["division_type"],
                     "parent": ("country", COUNTRY_CODE) if country_loaded else None})
        for w in p["wards"]:
            rows.append({"code": normalize_code(str(w["code"]), "commune"), "name": w["name"], "level": "commune",
                         "division_type": w["division_type"], "parent": ("province", code)})
    return rows


def import_current_map(province: str | None = None, *, actor: User | None = None) -> ImportResult:
    """Load today's map from the package: one province (`51`: its IOC + communes) or the whole country."""
    if province is not None:
        province = (province or "").strip()
        if not province.isdigit() or len(province) > 2:
            raise NotFound("unknown_province", _("Unknown province code %(code)s.", code=province[:20]))
    rows = package_rows(province)
    if not rows:
        raise NotFound("unknown_province", _("Unknown province code %(code)s.", code=province))
    source, data_date = package_source()
    return _write_units(rows, CURRENT_EDITION, actor=actor, source=source, data_date=data_date)


def search_query(q: str | None = None, level: str | None = None, parent_id: int | None = None,
                 edition: str | None = None) -> Select:
    """A SELECT of units matching `q` (diacritics- and case-insensitive, every word; a code matches
    at any level's width), in `edition` if given, ordered by edition (newest first), level, code."""
    stmt = select(Unit)
    for word in fold(q).split():
        codes = {word} | ({normalize_code(word, lv) for lv in CODE_WIDTHS} if word.isdigit() else set())
        stmt = stmt.where(or_(Unit.search_name.contains(word, autoescape=True), Unit.code.in_(codes)))
    if level in LEVELS:
        stmt = stmt.where(Unit.level == level)
    if parent_id:
        stmt = stmt.where(or_(Unit.parent_id == parent_id, Unit.id == parent_id))
    if edition:
        stmt = stmt.where(Unit.edition == edition)
    return stmt.order_by(Unit.edition.desc(), LEVEL_ORDER, Unit.code)


def search_units(q: str | None = None, level: str | None = None, limit: int | None = None,
                 edition: str | None = None) -> list[Unit]:
    """Units matching `q` (see `search_query`)."""
    stmt = search_query(q, level, edition=edition)
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def unit_tree(edition: str | None = None) -> list[dict[str, Any]]:
    """The directory (of one edition) as nested dicts {unit, children}, roots first, in one query."""
    stmt = select(Unit).order_by(Unit.edition.desc(), LEVEL_ORDER, Unit.code)
    if edition:
        stmt = stmt.where(Unit.edition == edition)
    units = list(db.session.scalars(stmt))
    nodes = {u.id: {"unit": u, "children": []} for u in units}
    roots = []
    for unit in units:
        if unit.parent_id and unit.parent_id in nodes:
            nodes[unit.parent_id]["children"].append(nodes[unit.id])
        else:
            roots.append(nodes[unit.id])
    return roots


def has_level(level: str, edition: str | None = None) -> bool:
    """Whether the map (an edition, or any) has units of `level` (a two-level map has no district)."""
    stmt = select(Unit.id).where(Unit.level == level)
    if edition:
        stmt = stmt.where(Unit.edition == edition)
    return db.session.scalar(stmt.limit(1)) is not None


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
    return list(changes)

