"""The directory as people use it: search, tree, a unit, an operator's edits of a connection point."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.units import CODE_WIDTHS, LEVELS, normalize_code
from launch.services import audit
from launch.services.directory import follow
from launch.services.directory.csv_import import EDITABLE_FIELDS, parse_int
from launch.services.directory.editions import LEVEL_ORDER
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
    points = follow.open_points([unit.id]) if changes else []
    if "expected_attendance" in changes:
        follow.follow_attendance(points, *changes["expected_attendance"])
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
    follow.tell_walls(points)
    return list(changes)

