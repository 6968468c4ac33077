"""Beat jobs of scoring: the aggregation on its configured date, and reminders before the deadline."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from core import outbox
from core.tabular import read_path
from institutions.models import Membership
from scoring import services, tasks
from scoring.models import AggregationRun, Scheme
from tests.factories import InstitutionFactory, UserFactory
from tests.scoring.conftest import DATA

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_scheme():
    report = services.import_scheme(2030, read_path(DATA / "worked_example_norms.csv", services.NORMS_COLUMNS),
                           read_path(DATA / "worked_example_indicators.csv", services.INDICATOR_COLUMNS),
                           activate=True)
    assert report.ok
    return Scheme.objects.get(year=2030)


def test_scheduled_aggregation_runs_once_on_its_date(active_scheme, django_capture_on_commit_callbacks):
    InstitutionFactory()  # the template serves 路桥区, where this institution is
    assert tasks.scheduled_aggregation() == []  # no date configured
    active_scheme.aggregate_on = timezone.localdate()
    active_scheme.save()
    with django_capture_on_commit_callbacks(execute=True):
        started = tasks.scheduled_aggregation()
    assert len(started) == 1
    assert AggregationRun.objects.get(pk=started[0]).status == "succeeded"
    assert tasks.scheduled_aggregation() == []  # idempotent within the day


def test_reminders_go_to_institutions_that_have_not_submitted(active_scheme, settings):
    settings.SCORING_REMINDER_DAYS = 7
    active_scheme.self_due_date = timezone.localdate() + dt.timedelta(days=7)
    active_scheme.save()
    late = InstitutionFactory(name="未提交银行")
    user = UserFactory(username="late_filer", email="late@example.invalid")
    Membership.objects.create(user=user, institution=late, role="institution_filer")
    assert tasks.remind_unsubmitted() == 1
    assert tasks.remind_unsubmitted() == 0  # the same day again: already in the outbox
    assert outbox.send_pending() == 1
    assert mail.outbox[0].to == ["late@example.invalid"] and "未提交银行" in mail.outbox[0].body
    active_scheme.self_due_date = timezone.localdate() + dt.timedelta(days=6)
    active_scheme.save()
    assert tasks.remind_unsubmitted() == 0
