"""The working-day calendar: China's official rest days and make-up working days (调休上班).

Pure functions only, shared by every deadline of the portal (complaint lifecycles, scoring notices).
The holiday schedule is passed in as data rather than read from ``chinese_calendar`` at call
time: that package stops at 2026, and later years are kept by the finance center in a table
(complaints' HolidayYear/HolidayDate, read by complaints.selectors.holiday_schedule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

__all__ = [
    "DueDate",
    "HolidaySchedule",
    "add_calendar_days",
    "add_working_days",
    "is_working_day",
    "next_working_day",
    "schedule_from_chinese_calendar",
]


@dataclass(frozen=True)
class HolidaySchedule:
    """Official rest days and make-up working days (调休上班) for the years in ``known_years``.

    Dates outside ``known_years`` are rejected rather than ignored: a holiday row whose year is
    not marked known would otherwise be silently disregarded by ``is_working_day``.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]
    known_years: frozenset[int]

    def __post_init__(self) -> None:
        # Callers loading from the database naturally pass sets or lists; freezing keeps the
        # schedule hashable and immune to later mutation of the caller's collection.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "known_years", frozenset(self.known_years))
        both = self.holidays & self.workdays
        if both:
            raise ValueError(_("同一日期不能既是节假日又是调休上班日：{dates}").format(dates=sorted(both)))
        stray = sorted(d for d in self.holidays | self.workdays if d.year not in self.known_years)
        if stray:
            raise ValueError(_("以下日期所在年份未列入已知年份：{dates}").format(dates=stray))

    @classmethod
    def empty(cls) -> HolidaySchedule:
        return cls(holidays=frozenset(), workdays=frozenset(), known_years=frozenset())


@dataclass(frozen=True)
class DueDate:
    """A deadline plus whether it rests on holiday data we actually have."""

    date: date
    # True when the count crossed a year without holiday data, so the date may move once the
    # finance center enters that year's schedule.
    provisional: bool
    basis: str


def schedule_from_chinese_calendar(years: Iterable[int]) -> HolidaySchedule:
    """Build a schedule from the ``chinese_calendar`` package, for seeding the holiday table.

    Years the package has no data for are skipped, not raised on, so seeding a range that runs
    past the package's last year still works and simply leaves those years unknown.
    """
    # Imported here so the deadline rules themselves never depend on the package being present.
    import chinese_calendar

    package_years = {d.year for d in chinese_calendar.holidays}
    first, last = min(package_years), max(package_years)
    wanted = frozenset(y for y in years if first <= y <= last)
    return HolidaySchedule(
        holidays=frozenset(d for d in chinese_calendar.holidays if d.year in wanted),
        workdays=frozenset(d for d in chinese_calendar.workdays if d.year in wanted),
        known_years=wanted,
    )


def is_working_day(d: date, schedule: HolidaySchedule) -> bool:
    if d.year in schedule.known_years:
        if d in schedule.workdays:
            return True
        if d in schedule.holidays:
            return False
    return d.weekday() < 5


def add_working_days(start: date, n: int, schedule: HolidaySchedule, *, basis: str | None = None) -> DueDate:
    """The ``n``-th working day after ``start``; the day of ``start`` itself never counts."""
    if n < 1:
        raise ValueError(_("工作日数必须为正整数，收到 {n}").format(n=n))
    day = start
    remaining = n
    provisional = False
    while remaining:
        day += timedelta(days=1)
        if day.year not in schedule.known_years:
            provisional = True
        if is_working_day(day, schedule):
            remaining -= 1
    if basis is None:
        basis = _("{n}个工作日内").format(n=n)
    return DueDate(date=day, provisional=provisional, basis=basis)


def next_working_day(day: date, schedule: HolidaySchedule) -> tuple[date, bool]:
    """``day`` itself when it is a working day, else the first working day after it.

    Returns the day and whether the answer is provisional: a day looked at lies in a year whose
    schedule is not known (weekends only), so the day may move once that year is entered.
    """
    provisional = day.year not in schedule.known_years
    while not is_working_day(day, schedule):
        day += timedelta(days=1)
        provisional = provisional or day.year not in schedule.known_years
    return day, provisional


def add_calendar_days(start: date, n: int, schedule: HolidaySchedule, *, basis: str | None = None) -> DueDate:
    """A period of ``n`` calendar days after ``start`` (the day of ``start`` never counts).

    The rest-day rule (DOMAIN.md, "How periods are counted"; 民法典第二百零三条 and the rules of
    administrative procedure): when the last day is a rest day (a weekend day that is not a make-up
    working day, or an official holiday) the period ends on the next working day.
    """
    if n < 1:
        raise ValueError(_("期间天数必须为正整数，收到 {n}").format(n=n))
    day, provisional = next_working_day(start + timedelta(days=n), schedule)
    return DueDate(date=day, provisional=provisional, basis=basis if basis is not None else _("{n}日内").format(n=n))
