"""Deadline rules. Expected dates are worked out by hand from the official 2026 schedule
(国办发明电 holiday notice as carried by chinesecalendar 1.11.0):
Spring Festival off Sun 15 Feb - Mon 23 Feb 2026, make-up working Saturdays 14 Feb and 28 Feb;
New Year off 1-3 Jan 2026, make-up working Sunday 4 Jan 2026.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaints.deadlines import case_deadlines, due_status
from core.workdays import (
    DueDate,
    HolidaySchedule,
    add_working_days,
    is_working_day,
    schedule_from_chinese_calendar,
)

PACKAGE_YEARS = range(2004, 2027)
FULL = schedule_from_chinese_calendar(PACKAGE_YEARS)
ONLY_2026 = schedule_from_chinese_calendar([2026, 2027])


# --- schedule data -------------------------------------------------------------------------


def test_seeding_skips_years_the_package_does_not_know():
    assert ONLY_2026.known_years == frozenset({2026})
    assert all(d.year == 2026 for d in ONLY_2026.holidays | ONLY_2026.workdays)
    assert schedule_from_chinese_calendar([2027, 2030]) == HolidaySchedule.empty()
    assert schedule_from_chinese_calendar([]) == HolidaySchedule.empty()


def test_seeded_2026_spring_festival_data():
    assert date(2026, 2, 14) in ONLY_2026.workdays
    assert date(2026, 2, 28) in ONLY_2026.workdays
    assert {date(2026, 2, 15) + timedelta(days=i) for i in range(9)} <= ONLY_2026.holidays


def test_is_working_day_in_known_year():
    assert is_working_day(date(2026, 2, 14), ONLY_2026)  # make-up Saturday
    assert not is_working_day(date(2026, 2, 16), ONLY_2026)  # Monday in Spring Festival
    assert not is_working_day(date(2026, 2, 21), ONLY_2026)  # ordinary Saturday inside holiday
    assert is_working_day(date(2026, 2, 24), ONLY_2026)
    assert not is_working_day(date(2026, 3, 7), ONLY_2026)  # ordinary Saturday


def test_is_working_day_in_unknown_year_is_monday_to_friday():
    # 1 Jan 2027 is a Friday; without 2027 data it cannot be treated as New Year's Day.
    assert is_working_day(date(2027, 1, 1), ONLY_2026)
    assert not is_working_day(date(2027, 1, 2), ONLY_2026)
    assert not is_working_day(date(2027, 1, 3), ONLY_2026)
    assert is_working_day(date(2026, 2, 16), HolidaySchedule.empty())


def test_schedule_rejects_inconsistent_data():
    with pytest.raises(ValueError, match="既是节假日又是调休上班日"):
        HolidaySchedule(
            holidays=frozenset({date(2026, 5, 1)}),
            workdays=frozenset({date(2026, 5, 1)}),
            known_years=frozenset({2026}),
        )
    with pytest.raises(ValueError, match="未列入已知年份"):
        HolidaySchedule(
            holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset(), known_years=frozenset({2026})
        )


# --- working-day counting ------------------------------------------------------------------


def test_forwarding_across_spring_festival_2026():
    # Received Thu 12 Feb: Fri 13 (1), Sat 14 make-up (2), 15-23 off, Tue 24 (3), Wed 25 (4), Thu 26 (5).
    due = case_deadlines("report", date(2026, 2, 12), anonymous=True, schedule=ONLY_2026,
                         identified_on=date(2026, 2, 12))
    assert due["forward_discipline"].date == date(2026, 2, 26)
    assert due["forward_discipline"].provisional is False
    assert "5个工作日" in due["forward_discipline"].basis


def test_forwarding_across_spring_festival_without_data_is_provisional_weekdays():
    # No data: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19 -- the holiday is what moves it a week.
    due = add_working_days(date(2026, 2, 12), 5, HolidaySchedule.empty())
    assert due.date == date(2026, 2, 19)
    assert due.provisional is True


def test_forwarding_across_make_up_saturday():
    # Received Wed 25 Feb: Thu 26 (1), Fri 27 (2), Sat 28 make-up (3), Mon 2 Mar (4), Tue 3 Mar (5).
    due = case_deadlines("complaint", date(2026, 2, 25), anonymous=True, schedule=ONLY_2026,
                         identified_on=date(2026, 2, 25))
    assert due["forward_discipline"].date == date(2026, 3, 3)


def test_forwarding_across_new_year_into_known_year():
    # Received Wed 31 Dec 2025: 1-3 Jan off, Sun 4 Jan make-up (1), Mon 5 - Thu 8 (2-5).
    due = add_working_days(date(2025, 12, 31), 5, FULL)
    assert due == DueDate(date(2026, 1, 8), provisional=False, basis="5个工作日内")


def test_start_day_itself_is_not_counted():
    # Mon 2 Mar 2026 is a working day, but the count starts the next day.
    assert add_working_days(date(2026, 3, 2), 1, ONLY_2026).date == date(2026, 3, 3)
    # Received on a holiday: the first working day after it is day 1.
    assert add_working_days(date(2026, 2, 16), 1, ONLY_2026).date == date(2026, 2, 24)


def test_add_working_days_rejects_non_positive():
    with pytest.raises(ValueError, match="正整数"):
        add_working_days(date(2026, 3, 2), 0, ONLY_2026)
    with pytest.raises(ValueError, match="正整数"):
        add_working_days(date(2026, 3, 2), -1, ONLY_2026)


def test_deadlines_running_into_unknown_2027_are_provisional():
    received = date(2026, 12, 20)  # a Sunday
    due = case_deadlines("report", received, anonymous=False, schedule=ONLY_2026, identified_on=received)
    # Mon 21 - Fri 25 Dec: stays inside 2026, so it is firm.
    assert due["forward_discipline"] == DueDate(
        date(2026, 12, 25), provisional=False, basis=due["forward_discipline"].basis
    )
    # 21-25 Dec (5), 28-31 Dec (9), Fri 1 Jan (10: no 2027 data), 4-8 Jan (15).
    notify = due["notify_acceptance"]
    assert notify.date == date(2027, 1, 8)
    assert notify.provisional is True


def test_provisional_deadline_firms_up_once_next_year_is_entered():
    # Hypothetical 2027 row as the finance center would enter it: New Year's Day off.
    with_2027 = HolidaySchedule(
        holidays=ONLY_2026.holidays | {date(2027, 1, 1)},
        workdays=ONLY_2026.workdays,
        known_years=ONLY_2026.known_years | {2027},
    )
    notify = case_deadlines("report", date(2026, 12, 20), anonymous=False, schedule=with_2027)[
        "notify_acceptance"
    ]
    assert notify.date == date(2027, 1, 11)
    assert notify.provisional is False


# --- calendar-day deadlines and extensions -------------------------------------------------


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [(0, date(2026, 2, 27)), (1, date(2026, 3, 16)), (2, date(2026, 4, 13))],
)
@pytest.mark.parametrize("kind", ["complaint", "suggestion"])
def test_complaint_decision_in_calendar_days(kind, extensions, expected):
    # 12 Feb + 15 = 27 Feb; + 30 = Sat 14 Mar (Feb 2026 has 28 days), a rest day → Mon 16 Mar;
    # + 60 = 13 Apr. Calendar days: the Spring Festival in between does not push these back.
    due = case_deadlines(kind, date(2026, 2, 12), anonymous=True, schedule=ONLY_2026, extensions=extensions)
    assert due["decide"].date == expected
    assert due["decide"].provisional is False
    assert "银行业保险业消费投诉处理管理办法" in due["decide"].basis


def test_report_acceptance_and_conclusion_in_calendar_days():
    due = case_deadlines("report", date(2026, 2, 12), anonymous=True, schedule=ONLY_2026,
                         accepted_on=date(2026, 2, 12))
    assert due["accept"].date == date(2026, 2, 27)
    assert due["conclude"].date == date(2026, 4, 13)
    assert "银行保险违法行为举报处理办法" in due["conclude"].basis
    extended = case_deadlines("report", date(2026, 2, 12), anonymous=True, schedule=ONLY_2026, extensions=1,
                              accepted_on=date(2026, 2, 12))
    assert extended["conclude"].date == date(2026, 5, 13)
    assert extended["accept"].date == date(2026, 2, 27)  # only the conclusion is extendable


def test_calendar_day_deadlines_ending_in_a_year_without_schedule_are_provisional():
    # 20 Dec 2026 + 60 = Thu 18 Feb 2027: without 2027's schedule nobody knows whether it is a
    # Spring Festival holiday, so the date may still move.
    due = case_deadlines("report", date(2026, 12, 20), anonymous=True, schedule=ONLY_2026,
                         accepted_on=date(2026, 12, 20))
    assert due["conclude"] == DueDate(date(2027, 2, 18), provisional=True, basis=due["conclude"].basis)
    # 20 Dec + 15 = Mon 4 Jan 2027, provisional too; ending inside 2026 is firm.
    assert due["accept"].provisional is True
    firm = case_deadlines("report", date(2026, 12, 1), anonymous=True, schedule=ONLY_2026)
    assert firm["accept"] == DueDate(date(2026, 12, 16), provisional=False, basis=firm["accept"].basis)


@pytest.mark.parametrize(("kind", "too_many"), [("complaint", 3), ("suggestion", 3), ("report", 2)])
def test_extensions_beyond_legal_maximum_are_rejected(kind, too_many):
    case_deadlines(kind, date(2026, 3, 2), anonymous=True, schedule=ONLY_2026, extensions=too_many - 1)
    with pytest.raises(ValueError, match="最多"):
        case_deadlines(kind, date(2026, 3, 2), anonymous=True, schedule=ONLY_2026, extensions=too_many)


def test_negative_extensions_and_extended_ratings_are_rejected():
    with pytest.raises(ValueError, match="负数"):
        case_deadlines("complaint", date(2026, 3, 2), anonymous=True, schedule=ONLY_2026, extensions=-1)
    with pytest.raises(ValueError, match="评价"):
        case_deadlines("rating", date(2026, 3, 2), anonymous=True, schedule=ONLY_2026, extensions=1)


# --- which deadlines apply -----------------------------------------------------------------


@pytest.mark.parametrize("anonymous", [True, False])
def test_rating_has_no_deadlines(anonymous):
    received = date(2026, 3, 2)
    assert case_deadlines("rating", received, anonymous=anonymous, schedule=ONLY_2026) == {}
    concluded = case_deadlines(
        "rating", received, anonymous=anonymous, schedule=ONLY_2026, concluded_on=date(2026, 3, 3)
    )
    assert concluded == {}


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="未知的案件类型"):
        case_deadlines("petition", date(2026, 3, 2), anonymous=True, schedule=ONLY_2026)


@pytest.mark.parametrize(
    ("kind", "internal"),
    [
        ("complaint", {"decide", "forward_discipline"}),
        ("suggestion", {"decide", "forward_discipline"}),
        ("report", {"accept", "conclude", "forward_discipline"}),
    ],
)
def test_anonymous_vs_named_keys(kind, internal):
    received, concluded = date(2026, 3, 2), date(2026, 4, 1)
    days = {"accepted_on": received, "identified_on": received}
    anon = case_deadlines(kind, received, anonymous=True, schedule=ONLY_2026, concluded_on=concluded, **days)
    named_open = case_deadlines(kind, received, anonymous=False, schedule=ONLY_2026, **days)
    named_done = case_deadlines(kind, received, anonymous=False, schedule=ONLY_2026, concluded_on=concluded, **days)
    assert set(anon) == internal
    assert set(named_open) == internal | {"notify_acceptance"}
    assert set(named_done) == internal | {"notify_acceptance", "notify_result"}
    # Anonymity changes who is told, never how fast the case itself is handled.
    assert {k: anon[k] for k in internal} == {k: named_done[k] for k in internal}


def test_result_notification_counts_from_conclusion():
    # Concluded Thu 1 Oct 2026, inside National Day (1-7 Oct off, Sat 10 Oct make-up):
    # Thu 8 (1), Fri 9 (2), Sat 10 (3), Mon 12 - Fri 16 (4-8), 19-23 (9-13), Mon 26 (14), Tue 27 (15).
    due = case_deadlines(
        "report", date(2026, 9, 1), anonymous=False, schedule=ONLY_2026, concluded_on=date(2026, 10, 1)
    )
    assert due["notify_result"].date == date(2026, 10, 27)
    assert due["notify_result"].provisional is False
    assert "办结后15个工作日" in due["notify_result"].basis


def test_conclusion_before_receipt_is_rejected():
    with pytest.raises(ValueError, match="办结日期"):
        case_deadlines(
            "report", date(2026, 3, 2), anonymous=False, schedule=ONLY_2026, concluded_on=date(2026, 3, 1)
        )


# --- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 1), "ok"),
        (date(2026, 3, 2), "due_soon"),
        (date(2026, 3, 5), "due_soon"),
        (date(2026, 3, 6), "overdue"),
    ],
)
def test_due_status(today, expected):
    assert due_status(date(2026, 3, 5), today) == expected


def test_due_status_custom_window():
    assert due_status(date(2026, 3, 5), date(2026, 3, 4), soon_days=0) == "ok"
    assert due_status(date(2026, 3, 5), date(2026, 3, 5), soon_days=0) == "due_soon"
    with pytest.raises(ValueError, match="负数"):
        due_status(date(2026, 3, 5), date(2026, 3, 4), soon_days=-1)


# --- properties ----------------------------------------------------------------------------

# Spans years before, inside and after the package's data so unknown years are exercised too.
any_day = st.dates(min_value=date(2002, 1, 1), max_value=date(2030, 12, 31))
schedules = st.sampled_from([FULL, ONLY_2026, HolidaySchedule.empty()])


@given(start=any_day, n=st.integers(min_value=1, max_value=60), schedule=schedules)
def test_working_day_due_date_properties(start, n, schedule):
    due = add_working_days(start, n, schedule)
    assert due.date > start
    assert is_working_day(due.date, schedule)
    assert add_working_days(start, n + 1, schedule).date > due.date
    touched = {(start + timedelta(days=i)).year for i in range(1, (due.date - start).days + 1)}
    assert due.provisional == (not touched <= schedule.known_years)


@given(day=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_seeded_schedule_agrees_with_chinese_calendar(day):
    assert is_working_day(day, FULL) == chinese_calendar.is_workday(day)
