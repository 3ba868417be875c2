"""Who may read or act for which unit. Every page and API asks here, never decides itself.

A host acts for their units and every unit under them, whatever the map: a district host for its
communes (2023), a provincial host for the province's communes and a national host for everything
under the national root. The hierarchy is the directory's, read upwards.
"""
from __future__ import annotations

from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit, User
from launch.services.hierarchy import MAX_DEPTH

#: Where `preload_unit_ids` keeps a user's own unit ids on the loaded object (not a mapped attribute:
#: it lives as long as the object, one request, and a commit does not expire it).
_PRELOADED = "_launch_own_unit_ids"


def preload_unit_ids(user: User, unit_ids: set[int] | frozenset[int]) -> None:
    """Give `user` its own unit ids, read without building the `units` collection (the API token
    check does it on every scan: loading that collection cost more than the rest of the check-in)."""
    user.__dict__[_PRELOADED] = frozenset(unit_ids)


def own_unit_ids(user: User) -> set[int]:
    """The units the user was given (not those below them)."""
    preloaded = user.__dict__.get(_PRELOADED)
    return set(preloaded) if preloaded is not None else {u.id for u in user.units}


def scoped_unit_ids(user: User) -> set[int] | None:
    """Units a user may act for: None means all (operators); hosts get their units and those below."""
    if user.is_operator:
        return None
    if not user.is_host:
        return set()
    ids: set[int] = set()
    frontier = list(own_unit_ids(user))
    while frontier:
        ids.update(frontier)
        frontier = list(
            db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))).all()
        )
        frontier = [i for i in frontier if i not in ids]
    return ids


def can_act_for(user: User, unit_id: int) -> bool:
    """True if `user` may check in, report or edit for the unit (its own units or any unit below them)."""
    if user.is_operator:
        return True
    if not user.is_host:
        return False
    mine = own_unit_ids(user)
    current: int | None = unit_id
    for _depth in range(MAX_DEPTH):  # walk up: commune -> (district) -> province -> country
        if current is None:
            return False
        if current in mine:
            return True
        unit = db.session.get(Unit, current)
        current = unit.parent_id if unit is not None else None
    return False


def can_read_all(user: User) -> bool:
    """Operators and viewers read everything; hosts only their scope."""
    return user.is_operator or user.is_viewer
