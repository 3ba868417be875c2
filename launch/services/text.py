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
