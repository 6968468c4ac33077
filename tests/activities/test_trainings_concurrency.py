"""Attendance of two sessions recorded at once for the same employee: the stored hours count both.
(Review finding: each writer summed only the attendance it could see, and the last to write won.)"""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections, transaction

from activities import selectors, services

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
    started, release, errors = threading.Event(), threading.Event(), []

    def record_first():
        try:
            with transaction.atomic():
                services.set_attendance(w.filer, first, [employee])
                started.set()
                release.wait(15)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            started.set()
            connections.close_all()

    def record_second():
        try:
            services.set_attendance(w.filer, second, [employee])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=record_first)
    a.start()
    assert started.wait(15)
    b = threading.Thread(target=record_second)
    b.start()
    b.join(0.8)
    waited = b.is_alive()
    release.set()
    a.join(15)
    b.join(15)
    assert not errors
    assert waited, "the second writer did not wait for the first"
    done = selectors.employee_completion(employee, YEAR)
    assert (done.hours, done.sessions) == (Decimal("7.5"), 2)
