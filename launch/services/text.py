"""Text helpers: diacritics-insensitive folding for Vietnamese search."""
from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """Lower-case `text` without diacritics ("Huyện Tư Nghĩa" -> "huyen tu nghia")."""
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
