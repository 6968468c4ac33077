"""The one reading of a year given by a client (`?year=`, a form field): four digits, 2000–2100.

`year=0`, `-1` or a 20-digit year is a refusal (core.errors.DomainError, field "year": a 400 with the
reason in the API and on pages), never a date or a database error further down.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from .errors import DomainError

MIN_YEAR = 2000
MAX_YEAR = 2100
MESSAGE = format_lazy(gettext_lazy("年度应为 {low}–{high} 之间的四位数字，例如 2026。"), low=MIN_YEAR, high=MAX_YEAR)


def parse_year(raw, default: int | None = None, *, field: str = "year") -> int | None:
    """`raw` as a year; `default` when it is empty or missing. Raises DomainError when out of range."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and len(text) == 4) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise DomainError(MESSAGE, field=field)
    return int(text)


def year_in_range(year: int) -> bool:
    """For a year already an int (a path's `<int:year>`)."""
    return MIN_YEAR <= year <= MAX_YEAR
