"""Every user-facing string is in the Vietnamese catalogue, translated."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("launch/**.py", "python"), ("launch/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def test_every_string_in_the_code_has_a_vietnamese_translation():
    with (ROOT / "launch/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {}
    for m in catalog:
        key = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        translated[key] = bool(m.id) and all(strings) and not m.fuzzy
    missing = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "launch"), method_map=[(p.replace("launch/", ""), m) for p, m in METHODS],
        keywords=KEYWORDS, options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        key = message if isinstance(message, str) else message[0]
        if key and not translated.get(key):
            missing.add(key)
    assert not missing, "untranslated (run `make extract-messages` and translate):\n" + "\n".join(sorted(missing))


def test_vietnamese_catalogue_has_no_fuzzy_entries():
    with (ROOT / "launch/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    assert not [m.id for m in catalog if m.id and m.fuzzy]
