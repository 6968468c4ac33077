"""Attendance of two sessions recorded at once for the same employee: the stored hours count both.
(Review finding: each writer summed only the attendance it could see, and the last to write won.)"""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from activities import selectors, services
from tests.concurrency import crossing

from .conftest import YEAR

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def _session(w, hours, title):
    return services.record_training(w.filer, w.a, services.TrainingInput(
        title=title, held_on=dt.date(YEAR, 3, 1), hours=Decimal(hours)))


def test_two_sessions_attendance_recorded_at_once_both_count(w):
    first, second = _session(w, "4", "廉洁从业培训"), _session(w, "3.5", "警示教育")
    employee = w.emps[0].pk
    waited, outcome = crossing(lambda: services.set_attendance(w.filer, first, [employee]),
                               lambda: services.set_attendance(w.filer, second, [employee]))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the second writer did not wait for the first"
    done = selectors.employee_completion(employee, YEAR)
    assert (done.hours, done.sessions) == (Decimal("7.5"), 2)
