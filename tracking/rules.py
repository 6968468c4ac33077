"""Pure rules of tracked items: due dates in working days and when to remind (no ORM)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from core.workdays import DueDate, HolidaySchedule, add_working_days

MAX_WORKING_DAYS = 250  # about a year: a longer period is a typing mistake

OPEN, REPORTED, CLOSED = "open", "reported", "closed"

# action -> (states it is allowed from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "report": (frozenset({OPEN}), REPORTED),
    "accept": (frozenset({REPORTED}), CLOSED),
    "return": (frozenset({REPORTED}), OPEN),
}


def allowed(action: str, status: str) -> bool:
    return status in TRANSITIONS[action][0]


def next_status(action: str) -> str:
    return TRANSITIONS[action][1]


def check_working_days(n) -> int:
    """A period in working days: an integer from 1 to MAX_WORKING_DAYS, else ValueError (message in Chinese)."""
    if isinstance(n, str) and n.strip().isdigit():
        n = int(n.strip())
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(_("期限须为工作日天数（整数）。"))
    if not 1 <= n <= MAX_WORKING_DAYS:
        raise ValueError(_("期限须在1至{n}个工作日之间。").format(n=MAX_WORKING_DAYS))
    return n


def due_date(start: date, working_days: int, schedule: HolidaySchedule) -> DueDate:
    """The `working_days`-th working day after `start` (the start day itself never counts)."""
    return add_working_days(start, working_days, schedule, basis=_("{n}个工作日内").format(n=working_days))


def years_spanned(start: date, working_days: int) -> list[int]:
    """The calendar years a count of `working_days` from `start` can reach (for loading holidays)."""
    # Even with the longest holidays a working day comes at least every 10 calendar days on average.
    last = start.toordinal() + working_days * 2 + 30
    return list(range(start.year, date.fromordinal(last).year + 1))


def reminders_due(status: str, due_on: date, today: date, *, days_before: int, escalate_after: int) -> list[str]:
    """Which reminders an item should have had by `today` (each is sent once per due date):
    `due_soon` from `days_before` calendar days before the due date, `overdue` from the day after it,
    `escalation` once it is `escalate_after` days overdue. Only open items are reminded."""
    if status != OPEN:
        return []
    out = []
    if 0 <= (due_on - today).days <= days_before:
        out.append("due_soon")
    late = (today - due_on).days
    if late >= 1:
        out.append("overdue")
    if late >= escalate_after:
        out.append("escalation")
    return out


def on_time(reported_on: date, due_on: date) -> bool:
    return reported_on <= due_on
