"""Deadlines as the law counts them (issue #12, item 7; DOMAIN.md "How periods are counted"),
table-driven over 2026 and 2027.

2026 is the official schedule (chinese-calendar 1.11.0, as seeded into the holiday table):
New Year 1-3 Jan off, Sun 4 Jan worked; Spring Festival 15-23 Feb off, Sat 14 and Sat 28 Feb
worked; Mid-autumn 25-27 Sep off, Sun 20 Sep worked; National Day 1-7 Oct off, Sat 10 Oct worked.

2027 is NOT published in the package: the rows below use a test schedule, entered as the finance
center would enter it (New Year 1-3 Jan off; Spring Festival 5-13 Feb off, Sat 30 Jan and Sun 21 Feb
worked; National Day 1-7 Oct off, Sun 26 Sep and Sat 9 Oct worked). Dates on the 2027 rows follow
from that data, and the last rows show what happens before the year is entered (weekends only,
provisional).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from complaints.deadlines import case_deadlines
from core.workdays import HolidaySchedule, add_calendar_days, next_working_day, schedule_from_chinese_calendar


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


REAL_2026 = schedule_from_chinese_calendar([2026])
TEST_2027 = HolidaySchedule(
    holidays=frozenset(_days(date(2027, 1, 1), date(2027, 1, 3)) | _days(date(2027, 2, 5), date(2027, 2, 13))
                       | _days(date(2027, 10, 1), date(2027, 10, 7))),
    workdays=frozenset({date(2027, 1, 30), date(2027, 2, 21), date(2027, 9, 26), date(2027, 10, 9)}),
    known_years=frozenset({2027}),
)
BOTH = HolidaySchedule(holidays=REAL_2026.holidays | TEST_2027.holidays,
                       workdays=REAL_2026.workdays | TEST_2027.workdays,
                       known_years=REAL_2026.known_years | TEST_2027.known_years)

D = date

# (case, kind, basis, received, events, key, expected due date)
# events: accepted_on / identified_on / extensions / referred_on + reply_working_days
TABLE = [
    # --- the rest-day rule on calendar-day periods (2026, official) ---
    ("16 Sep + 15 = 1 Oct, National Day → Thu 8 Oct", "complaint", "financial", D(2026, 9, 16), {},
     "decide", D(2026, 10, 8)),
    ("1 Feb + 15 = Mon 16 Feb, Spring Festival → Tue 24 Feb", "complaint", "financial", D(2026, 2, 1), {},
     "decide", D(2026, 2, 24)),
    ("30 Jan + 15 = Sat 14 Feb, a make-up working day: stays", "suggestion", "financial", D(2026, 1, 30), {},
     "decide", D(2026, 2, 14)),
    ("5 Sep + 15 = Sun 20 Sep, a make-up working day: stays", "complaint", "financial", D(2026, 9, 5), {},
     "decide", D(2026, 9, 20)),
    ("25 Sep (Mid-autumn) + 15 = Sat 10 Oct, make-up working day", "complaint", "financial", D(2026, 9, 25), {},
     "decide", D(2026, 10, 10)),
    ("17 Dec 2025 + 15 = 1 Jan 2026, New Year → Sun 4 Jan (worked)", "complaint", "financial", D(2025, 12, 17), {},
     "decide", D(2026, 1, 4)),
    ("extended to 30: 12 Feb + 30 = Sat 14 Mar → Mon 16 Mar", "complaint", "financial", D(2026, 2, 12),
     {"extensions": 1}, "decide", D(2026, 3, 16)),
    ("ordinary weekday: 2 Mar + 15 = Tue 17 Mar", "complaint", "financial", D(2026, 3, 2), {},
     "decide", D(2026, 3, 17)),
    # --- reports: accepted within 15 days of receipt, concluded within 60 of acceptance ---
    ("report accepted or not: 2 Feb + 15 = 17 Feb (holiday) → 24 Feb", "report", "financial", D(2026, 2, 2), {},
     "accept", D(2026, 2, 24)),
    ("report concluded 60 days from acceptance (8 Jul → Sun 6 Sep → Mon 7 Sep), not from receipt",
     "report", "financial", D(2026, 6, 25), {"accepted_on": D(2026, 7, 8)}, "conclude", D(2026, 9, 7)),
    ("report accepted 3 Aug: + 60 = 2 Oct (National Day) → 8 Oct", "report", "financial", D(2026, 7, 20),
     {"accepted_on": D(2026, 8, 3)}, "conclude", D(2026, 10, 8)),
    ("report extended by 30: 3 Aug + 90 = Sun 1 Nov → Mon 2 Nov", "report", "financial", D(2026, 7, 20),
     {"accepted_on": D(2026, 8, 3), "extensions": 1}, "conclude", D(2026, 11, 2)),
    # --- forwarding to the discipline commission: 5 working days from the day identified ---
    ("identified Wed 30 Sep: 8, 9, Sat 10 (worked), 12, 13 Oct", "complaint", "financial", D(2026, 9, 20),
     {"identified_on": D(2026, 9, 30)}, "forward_discipline", D(2026, 10, 13)),
    ("flagged on day 10 (12 Mar): 13, 16, 17, 18, 19 Mar, not overdue at once", "report", "financial",
     D(2026, 3, 2), {"identified_on": D(2026, 3, 12)}, "forward_discipline", D(2026, 3, 19)),
    ("identified Thu 12 Feb: 13, Sat 14 (worked), 24, 25, 26 Feb", "report", "financial", D(2026, 2, 12),
     {"identified_on": D(2026, 2, 12)}, "forward_discipline", D(2026, 2, 26)),
    # --- 信访工作条例: accept within 15, conclude within 60 of acceptance, + 30 with approval ---
    ("信访: accept 16 Sep + 15 = 1 Oct → 8 Oct", "complaint", "xinfang", D(2026, 9, 16), {},
     "accept", D(2026, 10, 8)),
    ("信访: conclude from acceptance on Sun 20 Sep + 60 = Thu 19 Nov", "complaint", "xinfang", D(2026, 9, 16),
     {"accepted_on": D(2026, 9, 20)}, "conclude", D(2026, 11, 19)),
    ("信访: a suggestion, extended: 20 Sep + 90 = Sat 19 Dec → Mon 21 Dec", "suggestion", "xinfang",
     D(2026, 9, 16), {"accepted_on": D(2026, 9, 20), "extensions": 1}, "conclude", D(2026, 12, 21)),
    # --- 交办: the institution's reply in working days ---
    ("交办 Fri 25 Sep (holiday), 10 working days: 28-30 Sep, 8-10 Oct (Sat worked), 12-15 Oct", "complaint",
     "financial", D(2026, 9, 1), {"referred_on": D(2026, 9, 25), "reply_working_days": 10},
     "institution_reply", D(2026, 10, 15)),
    # --- 2027 (test schedule as entered by the finance center) ---
    ("2027: 16 Sep + 15 = Fri 1 Oct, National Day → Fri 8 Oct", "complaint", "financial", D(2027, 9, 16), {},
     "decide", D(2027, 10, 8)),
    ("2027: 22 Jan + 15 = Sat 6 Feb, Spring Festival → Sun 14 Feb (weekend) → Mon 15 Feb", "complaint",
     "financial", D(2027, 1, 22), {}, "decide", D(2027, 2, 15)),
    ("2027: 15 Jan + 15 = Sat 30 Jan, a make-up working day: stays", "complaint", "financial", D(2027, 1, 15), {},
     "decide", D(2027, 1, 30)),
    ("2027: 6 Feb + 15 = Sun 21 Feb, a make-up working day: stays", "report", "financial", D(2027, 2, 6), {},
     "accept", D(2027, 2, 21)),
    ("2027: report accepted 3 Aug + 60 = Sat 2 Oct → Fri 8 Oct", "report", "financial", D(2027, 7, 27),
     {"accepted_on": D(2027, 8, 3)}, "conclude", D(2027, 10, 8)),
    ("2027: identified Thu 30 Sep: 8, Sat 9 (worked), 11, 12, 13 Oct", "report", "financial", D(2027, 9, 1),
     {"identified_on": D(2027, 9, 30)}, "forward_discipline", D(2027, 10, 13)),
    ("2027: identified Thu 4 Feb: 14 Feb off → 15, 16, 17, 18, 19 Feb", "complaint", "financial", D(2027, 2, 1),
     {"identified_on": D(2027, 2, 4)}, "forward_discipline", D(2027, 2, 19)),
    ("across the year: 17 Dec 2026 + 15 = Fri 1 Jan 2027, New Year → Mon 4 Jan", "complaint", "financial",
     D(2026, 12, 17), {}, "decide", D(2027, 1, 4)),
]


@pytest.mark.parametrize(("case", "kind", "basis", "received", "events", "key", "expected"), TABLE,
                         ids=[row[0] for row in TABLE])
def test_deadline_table(case, kind, basis, received, events, key, expected):
    due = case_deadlines(kind, received, anonymous=True, schedule=BOTH, basis=basis, **events)
    assert due[key].date == expected, case
    assert due[key].provisional is False


def test_a_rolled_over_date_says_so_in_its_basis():
    due = case_deadlines("complaint", D(2026, 9, 16), anonymous=True, schedule=BOTH)["decide"]
    assert "顺延至下一工作日" in due.basis and "银行业保险业消费投诉处理管理办法" in due.basis
    plain = case_deadlines("complaint", D(2026, 3, 2), anonymous=True, schedule=BOTH)["decide"]
    assert "顺延" not in plain.basis


def test_xinfang_basis_names_the_regulation_and_needs_acceptance_for_the_conclusion():
    due = case_deadlines("report", D(2026, 9, 16), anonymous=True, schedule=BOTH, basis="xinfang")
    assert set(due) == {"accept"} and "信访工作条例" in due["accept"].basis
    accepted = case_deadlines("report", D(2026, 9, 16), anonymous=True, schedule=BOTH, basis="xinfang",
                              accepted_on=D(2026, 9, 20))
    assert "信访工作条例" in accepted["conclude"].basis
    with pytest.raises(ValueError, match="最多延长一次"):
        case_deadlines("complaint", D(2026, 9, 16), anonymous=True, schedule=BOTH, basis="xinfang", extensions=2)
    with pytest.raises(ValueError, match="办理依据"):
        case_deadlines("complaint", D(2026, 9, 16), anonymous=True, schedule=BOTH, basis="petition")


def test_forwarding_has_no_deadline_until_identified():
    assert "forward_discipline" not in case_deadlines("report", D(2026, 3, 2), anonymous=True, schedule=BOTH)


def test_event_days_before_receipt_are_refused():
    for field in ("accepted_on", "identified_on", "concluded_on"):
        with pytest.raises(ValueError, match="不能早于收到日期"):
            case_deadlines("report", D(2026, 3, 2), anonymous=True, schedule=BOTH, **{field: D(2026, 3, 1)})
    with pytest.raises(ValueError, match="交办"):
        case_deadlines("report", D(2026, 3, 2), anonymous=True, schedule=BOTH, referred_on=D(2026, 3, 3))


# --- before next year's schedule is entered -------------------------------------------------


def test_without_the_2027_schedule_a_last_day_on_a_2027_holiday_is_provisional():
    # 16 Sep 2027 + 15 = Fri 1 Oct 2027: a weekday without the schedule, so it stays, provisionally.
    unknown = case_deadlines("complaint", D(2027, 9, 16), anonymous=True, schedule=REAL_2026)["decide"]
    assert (unknown.date, unknown.provisional) == (D(2027, 10, 1), True)
    known = case_deadlines("complaint", D(2027, 9, 16), anonymous=True, schedule=BOTH)["decide"]
    assert (known.date, known.provisional) == (D(2027, 10, 8), False)


def test_next_working_day_and_calendar_periods():
    assert next_working_day(D(2026, 10, 1), REAL_2026) == (D(2026, 10, 8), False)
    assert next_working_day(D(2026, 10, 10), REAL_2026) == (D(2026, 10, 10), False)  # make-up Saturday
    assert next_working_day(D(2027, 1, 2), REAL_2026) == (D(2027, 1, 4), True)  # weekend, year unknown
    assert add_calendar_days(D(2026, 9, 16), 15, REAL_2026).date == D(2026, 10, 8)
    with pytest.raises(ValueError, match="正整数"):
        add_calendar_days(D(2026, 9, 16), 0, REAL_2026)
