"""The directory as people use it: search, tree, a unit, an operator's edits of a connection point."""
from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.units import CODE_WIDTHS, LEVELS, normalize_code
from launch.services import audit
from launch.services.directory.csv_import import EDITABLE_FIELDS, parse_int
from launch.services.directory.editions import LEVEL_ORDER, code_candidates, default_edition, find_unit
from launch.services.directory.follow import follow_attendance, open_points, tell_walls
from launch.services.errors import NotFound, ValidationFailed
from launch.services.text import fold


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


def units_under(unit: Unit) -> list[Unit]:
    """Every unit below `unit` in its map (not the unit itself), read level by level (at most three
    queries: a national root's provinces, then their districts or communes, then communes)."""
    out: list[Unit] = []
    frontier = [unit.id]
    for _depth in range(len(LEVELS)):
        below = list(db.session.scalars(select(Unit).where(Unit.parent_id.in_(frontier))))
        if not below:
            break
        out += below
        frontier = [u.id for u in below]
    return out


def launch_root(unit: Unit) -> Unit:
    """The unit whose tree a launch hosted at `unit` invites by default: the unit itself at the
    national or provincial level, else its province (a district hosting a province's launch)."""
    current = unit
    for _depth in range(len(LEVELS)):
        if current.level in ("country", "province") or current.parent is None:
            return current
        current = current.parent
    return current


def map_root(edition: str | None = None) -> Unit | None:
    """The top unit of a map (the newest present by default): the national root when the whole
    country is loaded, else the first province."""
    edition = edition or default_edition()
    return db.session.scalar(select(Unit).where(Unit.edition == edition, Unit.parent_id.is_(None))
                             .order_by(LEVEL_ORDER, Unit.code).limit(1))


def areas(*, include_roots: bool = False) -> list[Unit]:
    """Units that group points below their map's top (a district on the 2023 map, a province under
    the national root), newest map first: what an event's invitation chooses "by area". With
    `include_roots`, the tops too (a province of today's map loaded alone: a campaign's whole map)."""
    parents = select(Unit.parent_id).where(Unit.parent_id.is_not(None)).distinct()
    stmt = select(Unit).where(Unit.id.in_(parents))
    if not include_roots:
        stmt = stmt.where(Unit.parent_id.is_not(None))
    return list(db.session.scalars(stmt.order_by(Unit.edition.desc(), LEVEL_ORDER, Unit.code)))


def in_edition(values: Any, edition: str | None) -> tuple[list[Unit], list[str], list[str]]:
    """Units named by id or by code (`524`, `2025:51`, a code without its leading zeros), read in
    `edition`: (units, unknown tokens, tokens of units on another map)."""
    units: list[Unit] = []
    unknown: list[str] = []
    elsewhere: list[str] = []
    for token in re.split(r"[,;\s]+", values.strip()) if isinstance(values, str) else list(values or []):
        if isinstance(token, int) and not isinstance(token, bool):
            unit = db.session.get(Unit, token)
        else:
            token = str(token).strip()
            if not token:
                continue
            if ":" in token or not edition:
                unit = find_unit(token)
            elif token.isdigit() and len(token) <= 16:
                unit = db.session.scalar(select(Unit).where(Unit.edition == edition,
                                                            Unit.code.in_(code_candidates(token)))
                                         .order_by(LEVEL_ORDER).limit(1))
                unit = unit or find_unit(token)
            else:
                unit = None
        if unit is None:
            unknown.append(str(token))
        elif edition and unit.edition != edition:
            elsewhere.append(str(token))
        elif unit not in units:
            units.append(unit)
    return units, unknown, elsewhere


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
        number = raw if isinstance(raw, int) else parse_int(str(raw or "0"))
        if number is None or number < 0 or number > 1_000_000:
            errors.append(_("expected attendance must be a whole number of 0 or more"))
        clean["expected_attendance"] = number
    if errors:
        raise ValidationFailed("invalid_unit", _("The unit was not saved."), errors=errors)
    changes = {k: [getattr(unit, k), v] for k, v in clean.items() if getattr(unit, k) != v}
    points = open_points([unit.id]) if changes else []
    if "expected_attendance" in changes:
        follow_attendance(points, *changes["expected_attendance"])
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
    tell_walls(points)
    return list(changes)

