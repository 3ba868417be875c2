"""Report msgids of the Vietnamese catalogue that have no translation (exit 1 if any).

Usage: make extract-messages && python scripts/i18n_check.py
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "launch/translations/vi/LC_MESSAGES/messages.po"


def untranslated() -> list[str]:
    """msgids with an empty or fuzzy Vietnamese translation."""
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


if __name__ == "__main__":
    rows = untranslated()
    for row in rows:
        print(row)
    sys.exit(1 if rows else 0)
