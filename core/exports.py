"""Safe exports: every xlsx and csv the portal writes goes through these helpers.

A text value that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel/LibreOffice as a formula (CSV/formula injection, OWASP). Text is therefore:

- stripped of the control characters openpyxl refuses (``IllegalCharacterError``);
- neutralised when it begins with one of those characters, by prefixing a single quote ``'``
  (OWASP's recommendation), unless the whole text is a plain number such as ``-2`` or ``+1.5``
  (which cannot call anything);
- written to xlsx as a string cell (``data_type 's'``, number format ``@``), never a formula.

Numbers, booleans, dates and times are left as they are, so scores stay numeric in the xlsx.

Imports refuse such values in names and codes through ``refuse_formula`` (one validator for the
command and the admin): the stored data stays clean for every other reader too.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_NATIVE = (bool, int, float, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta)


def neutralise(text: str) -> str:
    """The text without control characters openpyxl refuses, quoted if a spreadsheet would run it."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def unquote(text: str) -> str:
    """A value read back from a file the portal wrote: the quote `neutralise` added, removed."""
    if isinstance(text, str) and text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def safe_value(value):
    """A cell's value: numbers, booleans, dates and None as they are; anything else as safe text."""
    if value is None or isinstance(value, _NATIVE):
        return value
    return neutralise(value if isinstance(value, str) else str(value))


def _text_cell(cell, value):
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never "f", whatever openpyxl guessed
        cell.number_format = "@"
    return cell


def write_cell(ws, row: int, column: int, value):
    """Set one cell of an openpyxl worksheet safely; text cells are strings, never formulas."""
    return _text_cell(ws.cell(row=row, column=column), safe_value(value))


def append_row(ws, values, font=None) -> None:
    """`ws.append(values)`, safely: text cells are neutralised strings, numbers and dates stay so.

    Works for write-only worksheets too (the column is set before appending: openpyxl's write-only
    `append` formats an unplaced cell's coordinate on the way and fails); `font` (a header's bold)
    is set on every cell, as a write-only sheet cannot be styled afterwards."""
    cells = [_text_cell(Cell(ws, column=i), safe_value(v)) for i, v in enumerate(values, 1)]
    if font is not None:
        for cell in cells:
            cell.font = font
    ws.append(cells)


class SafeCsvWriter:
    """`csv.writer` whose fields go through `safe_value` (numbers stay numbers)."""

    def __init__(self, fileobj, *args, **kwargs):
        self._writer = csv.writer(fileobj, *args, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([safe_value(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(fileobj, *args, **kwargs) -> SafeCsvWriter:
    return SafeCsvWriter(fileobj, *args, **kwargs)


def refuse_formula(value, label: str, allow_minus: bool = False) -> None:
    """Raise ValidationError (a row error in imports) when `value` would start a spreadsheet formula.

    Codes and names refuse ``=``, ``+``, ``-``, ``@``, tab and CR at the start (after trimming
    spaces, as the import does: a space-led value is stored without it); `allow_minus` lets a
    leading ``-`` through for free text such as a department written as the placeholder "-".
    """
    if not isinstance(value, str):
        return
    text = value.strip(" ")
    triggers = tuple(t for t in FORMULA_TRIGGERS if not (allow_minus and t == "-"))
    if text.startswith(triggers):
        shown = _("、").join(_("制表符") if t == "\t" else _("回车") if t == "\r" else t for t in triggers)
        raise ValidationError(
            _("{label}不能以 {shown} 开头（会被电子表格当作公式执行）：{text}").format(
                label=label, shown=shown, text=repr(text[:30])))


class SafeExportMixin:
    """For django-import-export resources (the admin's exports): every exported field through
    `safe_value`. The library's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only drops a leading
    ``=`` (not ``+ - @``, and it changes the data), so it stays off."""

    def export_field(self, field, instance, **kwargs):
        return safe_value(super().export_field(field, instance, **kwargs))
