"""QR images: SVG (segno, fast, for print sheets and downloads) and PNG (qrcode[pil]).

Codes are built from their text only and cached, so printing the 186 codes of an event again
costs nothing; a revoked point gets a new token, hence a new text and a new image.
"""
from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import segno
from qrcode.constants import ERROR_CORRECT_M

#: The data mask of codes drawn on print sheets. Choosing the best of the eight masks (segno's
#: default) is most of a code's cost (about 14 of 16 ms); any mask is a valid code every reader
#: decodes, so a sheet of a province's 170 communes prints in well under 2 s.
SHEET_MASK = 2


def sheet_code(text: str) -> segno.QRCode:
    """The code a print sheet draws for `text` (error correction M, the fixed SHEET_MASK)."""
    return segno.make(text, error="m", micro=False, mask=SHEET_MASK)


@lru_cache(maxsize=4096)
def svg_inline(text: str, scale: int = 4) -> str:
    """An <svg> element (no XML declaration) for embedding in a page; styled by attributes only."""
    return sheet_code(text).svg_inline(scale=scale, border=2, omitsize=True)


def svg_document(text: str, scale: int = 8) -> bytes:
    """A standalone SVG file."""
    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=scale, border=4, xmldecl=True)
    return out.getvalue()


def png_bytes(text: str, box_size: int = 10) -> bytes:
    """A PNG image (qrcode + Pillow), four modules of quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pil_image(text: str, box_size: int = 10):  # noqa: ANN201
    """A Pillow image of the code (tests and the fake camera use it)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image()
