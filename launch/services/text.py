"""Text helpers: diacritics-insensitive folding for Vietnamese search."""
from __future__ import annotations

import re
import unicodedata


def fold(text: str | None) -> str:
    """Lower-case `text` without diacritics ("Huyện Tư Nghĩa" -> "huyen tu nghia")."""
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


_SMALL_INT = re.compile(r"-?[0-9]{1,18}")


def small_int(value: object) -> int | None:
    """`value` as an int if it is a plain ASCII integer of at most 18 digits, else None.

    `str.isdigit` accepts "²" and any length, which `int()` then refuses with a ValueError (a 500);
    every parse of user-typed numbers and ids goes through here instead.
    """
    text = str(value if value is not None else "").strip()
    return int(text) if _SMALL_INT.fullmatch(text) else None


#: The largest id an INTEGER primary key holds (PostgreSQL and SQLite alike).
MAX_ID = 2**31 - 1


def row_id(value: object) -> int | None:
    """`value` as a database id (1 .. MAX_ID), else None.

    A larger number reaching a query overflows PostgreSQL's INTEGER (an error, not "not found").
    """
    number = value if isinstance(value, int) and not isinstance(value, bool) else small_int(value)
    return number if number is not None and 0 < number <= MAX_ID else None


#: How deep a JSON body may nest: the API's bodies are flat objects; deeper ones are refused, not
#: walked (repr, validation and the database would recurse through them).
MAX_JSON_DEPTH = 16
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_json_value(value: object, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ValueError if a parsed JSON value nests deeper than `max_depth` or holds a lone surrogate.

    JSON's "\\ud800" escape decodes to a string that cannot be encoded as UTF-8: the database driver,
    the log and the wall would each fail on it with a server error.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise ValueError("a lone surrogate in a string")
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise ValueError(f"nested deeper than {max_depth}")
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        else:
            stack.extend((v, depth + 1) for v in item)


def load_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`json.loads` that raises ValueError (never RecursionError) on bodies `check_json_value` refuses."""
    import json

    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError("nested too deep") from None
    check_json_value(value, max_depth)
    return value


def division_mark(division_type: str | None) -> str:
    """The short marker of a division type: the initials of its words ("thị trấn" -> "TT", "xã" -> "X").

    Derived, not listed, so a directory with other division types gets markers too.
    """
    return "".join(word[0] for word in (division_type or "").split()).upper()


def split_division(name: str, division_type: str | None) -> tuple[str, str]:
    """(marker, name without its type prefix): ("Xã Bình Thạnh", "xã") -> ("X", "Bình Thạnh").

    A name that does not start with its division type is kept whole, with the marker still given.
    """
    mark = division_mark(division_type)
    words, prefix = (name or "").split(), (division_type or "").split()
    if prefix and len(words) > len(prefix) and fold(" ".join(words[:len(prefix)])) == fold(" ".join(prefix)):
        return mark, " ".join(words[len(prefix):])
    return mark, name or ""
