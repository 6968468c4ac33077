"""The beat jobs run through Celery (eagerly in tests) and are safe to run twice."""

from datetime import date

import pytest
from django.conf import settings

from inspections import services
from inspections.models import RectificationTally
from inspections.tasks import recount_tallies
from tests.conftest import client_for
from tracking.models import Reminder
from tracking.tasks import send_reminders

pytestmark = pytest.mark.django_db


def test_beat_entries_name_registered_tasks():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"tracking.send_reminders", "inspections.recount_tallies"} <= tasks


def test_reminders_and_recount_are_idempotent(places):
    visit = services.record_visit(places["insp"], places["a"], services.VisitInput(visited_on=date(2026, 3, 2)))
    services.add_finding(visit, places["insp"], clause="3.2", description="问题", severity="minor", rectify_within=5)
    assert send_reminders.delay().get() == 2  # long overdue: the overdue reminder and the escalation
    assert send_reminders.delay().get() == 0
    assert Reminder.objects.count() == 2
    assert recount_tallies.delay().get() == 1
    assert recount_tallies.delay().get() == 1
    assert RectificationTally.objects.get().overdue == 1


def test_unknown_status_filter_is_400(places):
    assert client_for(places["fc"]).get("/api/v1/rectifications/?status=late").status_code == 400
    assert client_for(places["fc"]).get("/api/v1/rectifications/?status=overdue").status_code == 200
