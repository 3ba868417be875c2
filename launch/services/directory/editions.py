"""Directory editions (maps) and how a person's unit code finds its unit.

Two maps live side by side (see `launch.models.units`): the 2023 three-level map and today's
two-level map (since 1 July 2025). A code alone is ambiguous across maps, and a spreadsheet may
have dropped its leading zeros: these helpers read a code at each level's width and in one map.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from launch.extensions import db
from launch.models import Edition, Unit
from launch.models.units import CODE_WIDTHS, LEGACY_EDITION, normalize_code
from launch.services.errors import DomainError

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


