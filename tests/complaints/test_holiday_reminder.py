"""The November reminder to enter next year's holiday schedule (issue #12, item 7): sent through the
outbox to the finance center and the administrators while the table lacks next year, once a month."""

from datetime import date

import pytest

from complaints import services, tasks
from complaints.models import HolidayYear
from core.models import OutgoingMail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    fc = UserFactory(username="fc-h", roles=["finance_center"], email="fc@example.invalid")
    admin = UserFactory(username="root-h", is_superuser=True, is_staff=True, email="root@example.invalid")
    UserFactory(username="filer-h", roles=["inspector"], email="insp@example.invalid")
    UserFactory(username="fc-nomail", roles=["finance_center"], email="")
    return fc, admin


def test_november_without_next_year_reminds_once_a_month(people):
    assert not HolidayYear.objects.filter(year=2027).exists()
    assert services.remind_holiday_schedule(date(2026, 11, 2)) == 1
    mail = OutgoingMail.objects.get(kind="complaints.holiday_schedule")
    assert mail.recipients == ["fc@example.invalid", "root@example.invalid"]
    assert "2027" in mail.subject and "/admin/complaints/holidayyear/add/" in mail.body
    assert "暂定" in mail.body
    # Idempotent: the next days of November add nothing; December reminds once more.
    assert services.remind_holiday_schedule(date(2026, 11, 3)) == 0
    assert services.remind_holiday_schedule(date(2026, 11, 30)) == 0
    assert services.remind_holiday_schedule(date(2026, 12, 1)) == 1
    assert OutgoingMail.objects.filter(kind="complaints.holiday_schedule").count() == 2


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 6, 1), date(2026, 10, 31)])
def test_no_reminder_outside_november_and_december(people, day):
    assert services.remind_holiday_schedule(day) == 0
    assert not OutgoingMail.objects.exists()


def test_no_reminder_once_next_year_is_entered(people):
    HolidayYear.objects.create(year=2027, source="国办发明电〔2026〕×号")
    assert services.remind_holiday_schedule(date(2026, 11, 2)) == 0
    assert not OutgoingMail.objects.exists()


def test_the_beat_task_is_scheduled_and_runs(people, settings, monkeypatch):
    entry = settings.CELERY_BEAT_SCHEDULE["complaints-holiday-schedule-reminder"]
    assert entry["task"] == "complaints.remind_holiday_schedule" == tasks.remind_holiday_schedule.name
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: date(2026, 11, 29))
    assert tasks.remind_holiday_schedule.apply().get() == 1
    assert tasks.remind_holiday_schedule.apply().get() == 0
