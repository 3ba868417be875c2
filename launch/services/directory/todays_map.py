"""Today's map (since 1 July 2025) from the pinned `vietnam-provinces` package: one province (its
IOC and communes) or the whole country under a national root (the national IOC)."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from launch.extensions import db
from launch.models import Unit, User
from launch.models.units import COUNTRY_CODE, normalize_code
from launch.services.directory.csv_import import ImportResult, write_units
from launch.services.directory.editions import CURRENT_EDITION
from launch.services.errors import NotFound
from launch.services.text import fold

#: The national root of a national launch (the Government's bridge point, the national IOC).
COUNTRY_NAME = "Điểm cầu Trung ương (Trụ sở Chính phủ)"
COUNTRY_DIVISION_TYPE = "quốc gia"


@lru_cache(maxsize=1)
def package_data() -> tuple[str, str, tuple[dict[str, Any], ...]]:
    """(package version, data date, provinces with their wards) of the installed `vietnam-provinces`."""
    import vietnam_provinces

    provinces = json.loads(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    return vietnam_provinces.__version__, vietnam_provinces.__data_version__, tuple(provinces)


def package_source() -> tuple[str, str]:
    """('vietnam-provinces X.Y.Z', data date) of today's map."""
    version, data_date, _provinces = package_data()
    return f"vietnam-provinces {version}", data_date


def province_display_name(name: str, division_type: str) -> str:
    """'Quảng Ngãi' (tỉnh) -> 'Tỉnh Quảng Ngãi'; a city's name already says 'Thành phố'."""
    if division_type == "tỉnh" and not fold(name).startswith("tinh "):
        return f"Tỉnh {name}"
    return name


def package_provinces() -> list[tuple[str, str, int]]:
    """(code, name, number of communes) of every province of today's map."""
    _version, _date, provinces = package_data()
    return [(normalize_code(str(p["code"]), "province"), province_display_name(p["name"], p["division_type"]),
             len(p["wards"])) for p in provinces]


def package_rows(province: str | None = None) -> list[dict[str, Any]]:
    """Rows of today's map: one province (its IOC and communes) or, with None, the whole country
    under the national root."""
    _version, _date, provinces = package_data()
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
    return write_units(rows, CURRENT_EDITION, actor=actor, source=source, data_date=data_date)


