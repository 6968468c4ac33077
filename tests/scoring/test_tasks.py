"""Beat jobs of scoring: the aggregation on its configured date, and reminders before the deadline."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from core import outbox
from core.tabular import read_path
from institutions.models import District, Membership
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


def test_a_busy_database_redoes_the_run_instead_of_leaving_it_queued(active_scheme, monkeypatch):
    """SQLite locked by another writer (or a PostgreSQL deadlock) on the run's first write: the task
    is retried and the run succeeds; it is not left «queued» until the reaper fails it."""
    from django.db import OperationalError

    InstitutionFactory()
    run = AggregationRun.objects.create(year=2030, district=District.objects.get(code="331004"))
    real, calls = services.execute_runs, []

    def busy_once(run_ids):
        calls.append(run_ids)
        if len(calls) == 1:
            raise OperationalError("database table is locked: scoring_aggregationrun")
        return real(run_ids)

    monkeypatch.setattr(services, "execute_runs", busy_once)
    result = tasks.aggregate_scores_task.apply(args=[run.pk], throw=False)
    assert result.successful(), result.traceback
    assert len(calls) == 2
    run.refresh_from_db()
    assert run.status == "succeeded" and run.finished_at is not None

