"""Spreadsheets people open in Excel or LibreOffice: every CSV and XLSX export is written here.

Why one place: a cell that begins with ``= + - @`` (or a tab or line break) is run as a formula by
spreadsheet programs, and unit names, team names, metric labels and display names are typed or
imported by people. Following OWASP's "CSV Injection" guidance, such a text is prefixed with a
single quote in a CSV; in an XLSX it is stored as a text cell marked "quote prefix" (what Excel does
when a person types ``'=...``), so it shows as typed and is never evaluated. Times are written as
real date-times in XLSX (local time, Asia/Ho_Chi_Minh) and as ``dd/mm/yyyy hh:mm`` in CSV.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from launch.clock import to_local

#: First characters that make a spreadsheet program read a cell as a formula (OWASP's list, plus a
#: line feed and the full-width forms some spreadsheet programs also accept).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: How a time is written in a CSV cell, and the number format of a time cell in an XLSX.
CSV_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
XLSX_DATETIME_FORMAT = "dd/mm/yyyy hh:mm"
XLSX_DATE_FORMAT = "dd/mm/yyyy"


def is_formula_like(text: str) -> bool:
    """True if a spreadsheet program could take `text` for a formula (leading spaces do not hide it)."""
    return text.startswith(FORMULA_STARTS) or text.lstrip(" ").startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """`text` made inert for a CSV cell: a formula-like text gets a leading single quote."""
    return "'" + text if is_formula_like(text) else text


def restore(text: str) -> str:
    """The inverse of `neutralise`, for re-importing our own CSV exports ("'=x" -> "=x")."""
    return text[1:] if text.startswith("'") and is_formula_like(text[1:]) else text


def _local_naive(value: datetime) -> datetime:
    """A datetime as the local wall-clock time, without zone (spreadsheets have no time zones)."""
    return to_local(value).replace(tzinfo=None) if value.tzinfo is not None else value


def csv_cell(value: Any) -> Any:
    """One CSV cell: None empty, times formatted in local time, text neutralised, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return _local_naive(value).strftime(CSV_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (int, float)):
        return value
    return neutralise(str(value))


def csv_text(headings: Sequence[Any], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n",
             bom: bool = False) -> str:
    """A whole CSV, every cell (headings too) through `csv_cell`; `bom` for spreadsheet programs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([csv_cell(h) for h in headings])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return ("\ufeff" if bom else "") + out.getvalue()


@dataclass
class Sheet:
    """One worksheet: a bold, frozen heading row, then the rows; `widths` per column (characters)."""

    title: str
    headings: Sequence[Any]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = field(default_factory=tuple)


def _write_cell(sheet: Any, row: int, column: int, value: Any) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = sheet.cell(row=row, column=column)
    if value is None:
        return
    if isinstance(value, bool):
        cell.value = int(value)
    elif isinstance(value, datetime):
        cell.value = _local_naive(value)
        cell.number_format = XLSX_DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = XLSX_DATE_FORMAT
    elif isinstance(value, (int, float)):
        cell.value = value
    else:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # control characters XLSX cannot hold
        cell.value = text
        cell.data_type = "s"  # never "f": openpyxl would store "=..." as a live formula
        if is_formula_like(text):
            cell.quotePrefix = True


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of `sheets`, every cell written by `_write_cell`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(str(spec.title)[:31])
        for column, heading in enumerate(spec.headings, start=1):
            _write_cell(sheet, 1, column, heading)
            sheet.cell(row=1, column=column).font = Font(bold=True)
        for r, values in enumerate(spec.rows, start=2):
            for column, value in enumerate(values, start=1):
                _write_cell(sheet, r, column, value)
        sheet.freeze_panes = "A2"
        widths = spec.widths or [min(40, max(10, len(str(h)) + 2)) for h in spec.headings]
        for column, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
