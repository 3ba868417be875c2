"""Community digital-technology teams (Tổ CNSCĐ): by hand and by CSV import (all or nothing).

A district team belongs to its district; commune and village teams to their commune (on a two-level
map there are no district teams; a province's communes are summed up under the province). The member
counts feed the campaigns' "members x N" targets, which are computed, never stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.teams import TEAM_LEVELS, Team
from launch.services import audit, exports
from launch.services.csvfile import LineError, csv_lines, decode_csv_bytes, open_csv, refused
from launch.services.directory import code_candidates, edition_for_codes
from launch.services.errors import NotFound, ValidationFailed, all_or_nothing
from launch.services.text import row_id, small_int

REQUIRED_COLUMNS = ("unit_code", "level", "name", "members")
MAX_MEMBERS = 10_000
TEAM_LEVEL_LABELS = {
    "district": _l("District team"),
    "commune": _l("Commune team"),
    "village": _l("Village team"),
}
#: Which directory level a team of each level is attached to.
UNIT_LEVEL_FOR = {"district": "district", "commune": "commune", "village": "commune"}


@dataclass
class TeamImportResult:
    """What a team import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _parse_members(value: Any) -> int | None:
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip().replace(".", "").replace(",", "")
        number = small_int(text)
        if number is None:
            return None
    return number if 0 <= number <= MAX_MEMBERS else None


def _check(level: str, name: str, members: Any, unit: Unit | None) -> list[tuple[str, str]]:
    """Problems with one team's values, as (code, message)."""
    problems: list[tuple[str, str]] = []
    if level not in TEAM_LEVELS:
        problems.append(("wrong_level", _("wrong team level %(level)s (district, commune or village)",
                                          level=level or "-")))
    elif unit is not None and unit.level != UNIT_LEVEL_FOR[level]:
        problems.append(("wrong_unit_level",
                         _("a %(level)s belongs to a %(wanted)s, but %(code)s is not one",
                           level=TEAM_LEVEL_LABELS[level], wanted=_("district") if level == "district"
                           else _("commune"), code=unit.code)))
    if not name:
        problems.append(("empty_name", _("the team name is empty")))
    elif len(name) > 200:
        problems.append(("too_long", _("the team name is longer than 200 characters")))
    if _parse_members(members) is None:
        problems.append(("bad_number", _("members must be a whole number from 0 to %(n)d", n=MAX_MEMBERS)))
    return problems


def parse_teams_csv(text: str, edition: str | None = None) -> list[dict[str, Any]]:
    """Check every line; raise ValidationFailed listing all problems by line, or return clean rows.

    Units are looked up in one map (`edition`, default the one holding most of the file's codes),
    by code at its level's width.
    """
    reader, header = open_csv(text, REQUIRED_COLUMNS)
    errors: list[LineError] = []
    lines = list(csv_lines(reader, errors))
    edition = edition or edition_for_codes([row["unit_code"] for _line, row in lines])
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.edition == edition))}
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in lines:
        # A name our own export neutralised ("'=..."), read back as it was typed.
        code, level, name = row["unit_code"], row["level"].lower(), " ".join(exports.restore(row["name"]).split())
        unit = next((units[c] for c in code_candidates(code) if c in units), None) if code else None
        if unit is None:
            errors.append(LineError(line, _("unknown unit %(code)s", code=code or "-"), "unknown_unit"))
        for problem_code, message in _check(level, name, row["members"], unit):
            errors.append(LineError(line, message, problem_code))
        key = (code, level, name.lower())
        if name and key in seen:
            errors.append(LineError(line, _("duplicate team %(name)s (first on line %(first)d)", name=name,
                                            first=seen[key]), "duplicate_team"))
        else:
            seen[key] = line
        rows.append({"unit": unit, "level": level, "name": name, "members": _parse_members(row["members"])})
    if not rows and not errors:
        errors.append(LineError(1, _("the file has no teams"), "empty_file"))
    if errors:
        raise refused(errors)
    return rows


def import_teams(data: bytes | str, *, actor: User | None = None, source: str = "upload",
                 edition: str | None = None) -> TeamImportResult:
    """Import teams (unit_code, level, name, members): matched by unit, level and name; all or nothing."""
    text = decode_csv_bytes(data) if isinstance(data, bytes) else data
    rows = parse_teams_csv(text, edition)
    existing = {(t.unit_id, t.level, t.name.lower()): t for t in db.session.scalars(select(Team))}
    result = TeamImportResult()
    try:
        for row in rows:
            team = existing.get((row["unit"].id, row["level"], row["name"].lower()))
            if team is None:
                team = Team(unit=row["unit"], level=row["level"], name=row["name"], members=row["members"])
                db.session.add(team)
                existing[(row["unit"].id, row["level"], row["name"].lower())] = team
                result.created += 1
            elif (team.members, team.name) != (row["members"], row["name"]):
                team.members, team.name = row["members"], row["name"]
                result.updated += 1
            else:
                result.unchanged += 1
        if result.created or result.updated:
            audit.record("teams.imported",
                         f"team import from {source}: {result.created} created, {result.updated} updated",
                         user=actor, details={"created": result.created, "updated": result.updated})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def get_team(team_id: int) -> Team:
    """The team or NotFound."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("unknown_team", _("This team does not exist."))
    return team


@all_or_nothing
def save_team(data: dict[str, Any], *, team: Team | None = None, actor: User | None = None) -> Team:
    """Create (team=None) or change a team from {unit_id, level, name, members}; refused whole."""
    unit_id = row_id(data.get("unit_id"))
    unit = db.session.get(Unit, unit_id) if unit_id is not None else None
    level = (data.get("level") or "").strip().lower()
    name = " ".join((data.get("name") or "").split())
    problems = _check(level, name, data.get("members"), unit)
    if unit is None:
        problems.insert(0, ("unknown_unit", _("Choose the team's unit.")))
    if not problems:
        # Compared in Python: SQLite's lower() leaves "Đ", "Ổ"... upper-case, so a clash slipped through.
        clash = next((t for t in db.session.scalars(select(Team).where(Team.unit_id == unit.id, Team.level == level))
                      if t.name.lower() == name.lower()), None)
        if clash is not None and clash is not team:
            problems.append(("duplicate_team", _("%(unit)s already has a team named %(name)s.",
                                                 unit=unit.name, name=name)))
    if problems:
        raise ValidationFailed("invalid_team", _("The team was not saved."), errors=[m for _c, m in problems],
                               codes=[c for c, _m in problems])
    members = _parse_members(data.get("members"))
    if team is None:
        team = Team(unit=unit, level=level, name=name, members=members)
        db.session.add(team)
        db.session.flush()
        audit.record("team.created", f"team {name} ({unit.code}) created, {members} members", user=actor,
                     target=team, details={"name": name, "unit": unit.name, "members": members})
    else:
        changes = {k: [getattr(team, k), v] for k, v in
                   {"unit_id": unit.id, "level": level, "name": name, "members": members}.items()
                   if getattr(team, k) != v}
        if changes:
            # The log shows the units by name, not by id.
            shown = {("unit" if k == "unit_id" else k): ([team.unit.name, unit.name] if k == "unit_id" else v)
                     for k, v in changes.items()}
            team.unit, team.level, team.name, team.members = unit, level, name, members
            audit.record("team.updated", f"team {name} ({unit.code}): {', '.join(changes)} changed", user=actor,
                         target=team, details={"name": name, "unit": unit.name, "changes": shown})
    db.session.commit()
    return team


def delete_team(team: Team, *, actor: User | None = None) -> None:
    """Remove a team (its members stop counting towards "members x N" targets)."""
    audit.record("team.deleted", f"team {team.name} ({team.unit.code}) deleted, {team.members} members",
                 user=actor, target=team, details={"name": team.name, "unit": team.unit.name, "members": team.members})
    db.session.delete(team)
    db.session.commit()


def members_by_unit() -> dict[int, int]:
    """Team members per directory unit, counted where the team sits (no roll-up)."""
    return dict(db.session.execute(select(Team.unit_id, func.sum(Team.members)).group_by(Team.unit_id)).all())


def members_rolled_up() -> dict[int, int]:
    """Team members per unit including every team below it (a district counts its communes' teams)."""
    own = members_by_unit()
    parents = dict(db.session.execute(select(Unit.id, Unit.parent_id)).all())
    total: dict[int, int] = {}
    for unit_id, members in own.items():
        current: int | None = unit_id
        while current is not None:
            total[current] = total.get(current, 0) + int(members or 0)
            current = parents.get(current)
    return total


def district_summary() -> list[dict[str, Any]]:
    """Per area (the unit above the communes: a district on the 2023 map, the province on a
    two-level map): teams by level and members (all teams in the area and its communes).

    Districts are always listed; a two-level province once it has a team.
    """
    parent_of = dict(db.session.execute(select(Unit.id, Unit.parent_id)).all())
    team_rows = db.session.execute(
        select(Team.unit_id, Team.level, func.count(), func.sum(Team.members), Unit.level)
        .join(Unit, Unit.id == Team.unit_id).group_by(Team.unit_id, Team.level, Unit.level)
    ).all()
    area_ids = set(db.session.scalars(select(Unit.id).where(Unit.level == "district")))
    for unit_id, _team_level, _n, _members, unit_level in team_rows:
        if unit_level == "commune" and parent_of.get(unit_id) not in area_ids and parent_of.get(unit_id):
            area_ids.add(parent_of[unit_id])
    areas = list(db.session.scalars(select(Unit).where(Unit.id.in_(area_ids))
                                    .order_by(Unit.edition, Unit.code))) if area_ids else []
    counts: dict[int, dict[str, int]] = {a.id: {"district": 0, "commune": 0, "village": 0, "members": 0}
                                         for a in areas}
    for unit_id, level, n, members, _unit_level in team_rows:
        area_id = unit_id if unit_id in counts else parent_of.get(unit_id)
        if area_id in counts:
            counts[area_id][level] += n
            counts[area_id]["members"] += int(members or 0)
    return [{"unit": a, **counts[a.id], "teams": counts[a.id]["district"] + counts[a.id]["commune"]
             + counts[a.id]["village"]} for a in areas]


def teams_query(district_id: int | None = None, unit_id: int | None = None):  # noqa: ANN201
    """A SELECT of teams (of a district and its communes, or of one unit), ordered for display."""
    from sqlalchemy import case, or_

    stmt = select(Team).join(Unit, Team.unit_id == Unit.id)
    if unit_id:
        stmt = stmt.where(Team.unit_id == unit_id)
    elif district_id:
        stmt = stmt.where(or_(Unit.id == district_id, Unit.parent_id == district_id))
    order = case((Team.level == "district", 0), (Team.level == "commune", 1), else_=2)
    return stmt.order_by(Unit.code, order, Team.name)


def export_csv() -> str:
    """Every team as an importable CSV (formula-like names neutralised; the import reads them back)."""
    rows = ([team.unit.code, team.level, team.name, team.members] for team in db.session.scalars(teams_query()))
    return exports.csv_text(REQUIRED_COLUMNS, rows, lineterminator="\n")
