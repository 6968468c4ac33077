"""Deadlines from the editable holiday table: seeded years, a case on 20 December (next year
unknown → provisional, never a failure), and a year entered later by the finance center."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from complaints import selectors, services
from complaints.models import Complaint, HolidayDate, HolidayYear
from core.workdays import add_working_days, schedule_from_chinese_calendar
from tests.complaints.helpers import submit_case

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 10):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def received_on(institution, day: date, **kw) -> Complaint:
    case, _ = submit_case(institution, **kw)
    case.received_at, case.deadline_from = at(day), day
    services.apply_deadlines(case)
    case.save()
    return case


def test_migration_seeded_the_package_years():
    assert HolidayYear.objects.filter(year=2026).exists()
    assert not HolidayYear.objects.filter(year=2027).exists()
    schedule = selectors.holiday_schedule([2026])
    assert schedule == schedule_from_chinese_calendar([2026])
    assert HolidayDate.objects.get(day=date(2026, 2, 14)).kind == "workday"  # make-up Saturday
    assert HolidayDate.objects.get(day=date(2026, 2, 16)).name == "春节"


def test_spring_festival_case_from_the_table(bank):
    # Received Thu 12 Feb 2026: working days Fri 13, Sat 14 (make-up), then the holiday runs to
    # Mon 23 Feb; Tue 24, Wed 25, Thu 26 → the 5th working day is 26 Feb.
    case = received_on(bank, date(2026, 2, 12), kind="report", description="x")
    # Accepted and identified as involving a party member on the day of receipt.
    case.accepted_at, case.involves_party_member = at(date(2026, 2, 12)), True
    case.party_identified_on = date(2026, 2, 12)
    services.apply_deadlines(case)
    assert case.deadlines["forward_discipline"] == {
        "date": "2026-02-26", "provisional": False, "basis": case.deadlines["forward_discipline"]["basis"]}
    assert case.deadlines["accept"]["date"] == "2026-02-27"  # 15 calendar days
    assert case.deadlines["conclude"]["date"] == "2026-04-13"  # 60 calendar days


def test_case_received_on_20_december_gets_provisional_dates(bank):
    case = received_on(bank, date(2026, 12, 20), kind="report", description="x", anonymous=False,
                       contact_name="王五", contact_phone="13812345678")
    # 15 working days run into 2027, whose schedule is not published yet: weekends only, provisional.
    notify = case.deadlines["notify_acceptance"]
    assert notify["provisional"] is True and notify["date"].startswith("2027-01")
    # 20 Dec + 15 = Mon 4 Jan 2027: provisional too (it might be a New Year holiday in 2027).
    assert case.deadlines["accept"] == {"date": "2027-01-04", "provisional": True,
                                        "basis": case.deadlines["accept"]["basis"]}
    assert case.deadlines_provisional is True
    expected = add_working_days(date(2026, 12, 20), 15, schedule_from_chinese_calendar([2026])).date
    assert notify["date"] == expected.isoformat()


def test_entering_the_new_year_recomputes_provisional_dates(bank):
    case = received_on(bank, date(2026, 12, 20), kind="report", description="x", anonymous=False,
                       contact_name="王五", contact_phone="13812345678")
    before = date.fromisoformat(case.deadlines["notify_acceptance"]["date"])
    # The finance center enters 2027 (hypothetical: New Year 1-3 Jan off, then a holiday on Mon 4 Jan).
    year = HolidayYear.objects.create(year=2027, source="测试")
    HolidayDate.objects.bulk_create([HolidayDate(year=year, day=date(2027, 1, 4), kind="holiday", name="元旦")])
    assert services.refresh_deadlines() == 1
    case.refresh_from_db()
    notify = case.deadlines["notify_acceptance"]
    # Before: Fri 8 Jan 2027. One more rest day pushes the 15th working day to Mon 11 Jan.
    assert before == date(2027, 1, 8)
    assert notify["provisional"] is False and notify["date"] == "2027-01-11"
    assert services.refresh_deadlines() == 0  # idempotent


def test_holiday_cache_is_cleared_by_changes():
    selectors.holiday_schedule([2030])
    assert 2030 not in selectors.holiday_schedule([2030]).known_years
    HolidayYear.objects.create(year=2030)
    services.holidays_changed()
    assert 2030 in selectors.holiday_schedule([2030]).known_years


def test_seed_holidays_keeps_edited_years_unless_overwritten():
    HolidayDate.objects.filter(day=date(2026, 2, 16)).update(name="手工改过")
    assert services.seed_holidays([2026, 2027]) == []
    assert HolidayDate.objects.get(day=date(2026, 2, 16)).name == "手工改过"
    assert services.seed_holidays([2026], overwrite=True) == [2026]
    assert HolidayDate.objects.get(day=date(2026, 2, 16)).name == "春节"


def test_notify_result_after_conclusion(bank, fc):
    from tests.complaints.helpers import act

    case = received_on(bank, date(2026, 3, 2), kind="complaint", description="x", anonymous=False,
                       contact_name="王五", contact_phone="13812345678")
    act(case, "accept", fc)
    act(case, "verify", fc)
    case = act(case, "conclude", fc, outcome="unsubstantiated")
    assert case.next_due_key == "notify_result"
    concluded = timezone.localdate(case.concluded_at)
    expected = add_working_days(concluded, 15, selectors.holiday_schedule([concluded.year, concluded.year + 1]))
    assert case.next_due_on == expected.date
