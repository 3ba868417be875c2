"""Fill Vietnamese translations into the catalogue from a JSON file {msgid: msgstr}.

Usage: python scripts/i18n_fill.py translations.json
Keeps existing translations unless the JSON gives a new one.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "launch/translations/vi/LC_MESSAGES/messages.po"


def fill(mapping: dict[str, str]) -> int:
    """Apply `mapping` to the catalogue; returns how many entries changed."""
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    changed = 0
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in mapping and mapping[key]:
            value = mapping[key]
            if isinstance(message.id, tuple):
                value = (value, value) if isinstance(value, str) else tuple(value)
            if message.string != value or message.fuzzy:
                message.string = value
                message.flags.discard("fuzzy")
                changed += 1
    with CATALOG.open("wb") as fh:
        write_po(fh, catalog, width=100)
    return changed


if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(f"{fill(data)} entries updated")
