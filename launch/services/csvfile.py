"""Reading uploaded CSV files for the all-or-nothing imports (directory, roster, teams).

Every import checks every line first and refuses the whole file with each problem tied to its
line number (`LineError`); this module does the parts they share: decoding, the header, the
required columns, unreadable lines, rows with too many fields and blank lines.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from launch.services.errors import ValidationFailed


@dataclass
class LineError:
    """One problem in an imported file, tied to its line number (the header is line 1)."""

    line: int
    message: str
    #: Machine code of the problem (e.g. `unknown_parent`), for APIs and tests.
    code: str = "invalid"

    def __str__(self) -> str:
        return _("Line %(line)d: %(message)s", line=self.line, message=self.message)


def refused(errors: list[LineError]) -> ValidationFailed:
    """The refusal of a whole file, its problems sorted by line."""
    return ValidationFailed("invalid_file", _("The file was refused; nothing was imported. Fix these lines:"),
                            errors=sorted(errors, key=lambda e: e.line))


def decode_csv_bytes(data: bytes) -> str:
    """Decode an uploaded file as UTF-8 (with or without BOM) or refuse it with the line at fault."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed(
            "bad_encoding",
            _("The file is not UTF-8 text."),
            errors=[LineError(line, _("not UTF-8 text (save the file as CSV UTF-8)"), "bad_encoding")],
        ) from None


def _unreadable(line: int = 1) -> ValidationFailed:
    return refused([LineError(line, _("this line cannot be read as CSV"), "bad_csv")])


def open_csv(text: str, required: Sequence[str], *, lower: bool = False) -> tuple[csv.DictReader, list[str]]:
    """A reader over `text` and its stripped header; refused (line 1) if a required column is missing."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
    except csv.Error:
        raise _unreadable() from None
    if lower:
        header = [h.lower() for h in header]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise ValidationFailed(
            "missing_column",
            _("Required columns are missing: %(cols)s.", cols=", ".join(missing)),
            errors=[LineError(1, _("missing column %(col)s", col=c), "missing_column") for c in missing],
        )
    return reader, header


def csv_lines(reader: csv.DictReader, errors: list[LineError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, stripped row) for each non-blank line; a row with too many fields goes to `errors`.

    A line the csv module cannot read (e.g. one field over its 128 KiB limit) refuses the whole
    file with that line, instead of failing with a server error.
    """
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:
                errors.append(LineError(line, _("too many fields"), "too_many_fields"))
                continue
            row = {k: (v or "").strip() for k, v in raw.items() if k}
            if any(row.values()):
                yield line, row
    except csv.Error:
        raise _unreadable(reader.line_num + 1) from None  # the line after the last one read
