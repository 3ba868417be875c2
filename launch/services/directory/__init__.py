"""The directory of connection points: its maps (editions), imports, search, tree and edits.

Two maps live side by side as editions (see `launch.models.units`): the 2023 three-level map (the
bundled Quảng Ngãi file, or any province's CSV) and today's two-level map (since 1 July 2025),
loaded from the `vietnam-provinces` package one province at a time or whole, under a national
root. Where to look:

- `editions`: the maps, their labels, and how a code a person types finds its unit;
- `csv_import`: CSV files, all or nothing, every bad line listed, idempotent;
- `todays_map`: today's map from the pinned `vietnam-provinces` package;
- `units`: search, tree, a unit and an operator's edits.

The public API is re-exported here: `from launch.services import directory; directory.import_directory(...)`.
"""
from launch.models.units import LEGACY_EDITION
from launch.services.directory.csv_import import (
    BUNDLED_CSV,
    EDITABLE_FIELDS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ImportResult,
    import_bundled_directory,
    import_directory,
    parse_directory_csv,
    write_units,
)
from launch.services.directory.editions import (
    CURRENT_EDITION,
    EDITION_LABELS,
    KNOWN_EDITIONS,
    LEVEL_LABELS,
    LEVEL_ORDER,
    check_edition_code,
    code_candidates,
    default_edition,
    edition_counts,
    edition_for_codes,
    edition_label,
    editions,
    ensure_edition,
    find_unit,
)
from launch.services.directory.todays_map import (
    COUNTRY_DIVISION_TYPE,
    COUNTRY_NAME,
    import_current_map,
    package_provinces,
    package_rows,
    package_source,
    province_display_name,
)
from launch.services.directory.units import get_unit, has_level, search_query, search_units, unit_tree, update_unit

__all__ = [
    "BUNDLED_CSV", "COUNTRY_DIVISION_TYPE", "COUNTRY_NAME", "CURRENT_EDITION", "EDITABLE_FIELDS", "EDITION_LABELS",
    "KNOWN_EDITIONS", "LEGACY_EDITION", "LEVEL_LABELS", "LEVEL_ORDER", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS",
    "ImportResult", "check_edition_code", "code_candidates", "default_edition", "edition_counts", "edition_for_codes",
    "edition_label", "editions", "ensure_edition", "find_unit", "get_unit", "has_level", "import_bundled_directory",
    "import_current_map", "import_directory", "package_provinces", "package_rows", "package_source",
    "parse_directory_csv", "province_display_name", "search_query", "search_units", "unit_tree", "update_unit",
    "write_units",
]
