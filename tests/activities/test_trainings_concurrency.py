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


def test_attendance_recorded_while_the_session_is_deleted_waits_then_finds_it_gone(w):
    """Deleting a session and recording its attendance take the session's lock first: the recording
    waits, then answers 404 (before, it wrote attendance for a deleted session: a foreign-key error at
    commit, or a deadlock against the delete's cascade)."""
    from activities.models import Attendance, TrainingSession
    from core.errors import NotFound

    session = _session(w, "4", "廉洁从业培训")
    employee = w.emps[0].pk
    services.set_attendance(w.filer, session, [employee])
    # Each writer with its own copy of the record, as two requests have (a deleted instance loses its pk).
    deleting, recording = (TrainingSession.objects.get(pk=session.pk) for _ in range(2))
    waited, outcome = crossing(lambda: services.delete_training(w.filer, deleting),
                               lambda: services.set_attendance(w.filer, recording, [employee, w.emps[1].pk]))
    assert "first_error" not in outcome, outcome
    assert waited, ("the recording did not wait for the delete", outcome)
    assert isinstance(outcome.get("error"), NotFound), outcome
    assert not TrainingSession.objects.filter(pk=session.pk).exists()
    assert not Attendance.objects.filter(session_id=session.pk).exists()
    assert selectors.employee_completion(employee, YEAR).sessions == 0
