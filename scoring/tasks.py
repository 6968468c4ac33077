"""Celery tasks: thin wrappers around services, safe to run twice."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import services

log = logging.getLogger(__name__)

# A run's first write can meet a busy database (SQLite locked by another writer, a PostgreSQL deadlock
# or dropped connection): the run is redone a few seconds later rather than left queued until the
# reaper fails it. Redoing is safe: a succeeded run is skipped, a failed one is aggregated again.
_TRANSIENT = {"autoretry_for": (OperationalError,), "retry_backoff": 1, "retry_backoff_max": 30, "max_retries": 5}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="scoring.aggregate", **_TRANSIENT)
def aggregate_scores_task(self, run_id: int) -> dict:
    run = services.execute_run(run_id)
    return {"run": run.pk, "status": run.status, "institutions": run.institutions_total}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="scoring.aggregate_districts",
             **_TRANSIENT)
def aggregate_districts_task(self, run_ids: list[int], institutions: list[int] | None = None) -> dict:
    """A batch of a spread aggregation: several districts' runs, aggregated together (only those
    institutions of them when given: an incremental re-aggregation)."""
    runs = services.execute_runs(run_ids, institutions)
    return {"runs": [run.pk for run in runs], "statuses": sorted({run.status for run in runs}),
            "institutions": sum(run.institutions_total or 0 for run in runs)}


@shared_task(name="scoring.aggregate_year")
def aggregate_year_task(year: int, only_changed: bool = False) -> list[int]:
    """A whole year, spread: one task per district on whichever worker is free, then the closing step."""
    return [run.pk for run in services.start_year_aggregation(year, only_changed=only_changed)]


@shared_task(bind=True, name="scoring.finish_year_aggregation", max_retries=None, acks_late=True,
             reject_on_worker_lost=True)
def finish_year_aggregation_task(self, year: int, run_ids: list[int]) -> dict:
    """The closing step of a spread aggregation: waits (re-queued every few seconds, no result
    backend needed) until every district's run has finished, then reports how they ended. A run
    whose worker died is redone by another worker; one never delivered is marked failed by the
    reaper, which ends the wait too."""
    from .models import AggregationRun

    outcome = services.year_aggregation_outcome(run_ids)
    if outcome[AggregationRun.Status.QUEUED] or outcome[AggregationRun.Status.RUNNING]:
        raise self.retry(countdown=getattr(settings, "SCORING_SPREAD_POLL_SECONDS", 5))
    log.info("aggregation of %s finished: %s", year, outcome)
    return outcome


@shared_task(name="scoring.scheduled_aggregation")
def scheduled_aggregation() -> list[int]:
    """Beat: aggregate every open district-year whose scheme's aggregation date is today."""
    from .models import AggregationRun, Scheme, SchemeStatus, YearStatus

    today = timezone.localdate()
    started = []
    for scheme in Scheme.objects.filter(status=SchemeStatus.ACTIVE, aggregate_on=today):
        for year in services.district_years_using(scheme):
            if year.status != YearStatus.OPEN:
                continue
            already = AggregationRun.objects.filter(year=year.year, district_id=year.district_id,
                                                    created_at__date=today, created_by__isnull=True).exists()
            if not already:
                started.append(services.start_aggregation(year.year, year.district).pk)
    return started


@shared_task(name="scoring.remind_unsubmitted")
def remind_unsubmitted() -> int:
    """Beat: N days before the self-assessment deadline, mail institutions that have not submitted
    (through core's outbox; one key per scheme, district, institution, address and due date, so a
    second run the same day enqueues nothing). Returns how many mails were enqueued."""
    from core import outbox
    from institutions.models import Membership

    from .models import Scheme, SchemeStatus, YearStatus

    today = timezone.localdate()
    days = settings.SCORING_REMINDER_DAYS
    queued = 0
    for scheme in Scheme.objects.filter(status=SchemeStatus.ACTIVE, self_due_date=today + timedelta(days=days)):
        due = scheme.self_due_date
        for year in services.district_years_using(scheme):
            if year.status != YearStatus.OPEN:
                continue
            pending = list(services.institutions_not_submitted(year))
            emails = (Membership.objects.filter(institution__in=pending).exclude(user__email="")
                      .values_list("institution_id", "institution__name", "user__email"))
            subject = _("【清廉金融】%(year)s 年度自评将于 %(due)s 截止") % {"year": scheme.year,
                                                                    "due": f"{due:%Y-%m-%d}"}
            mails = [outbox.Mail(key=f"scoring:reminder:{scheme.pk}:{year.district_id}:{institution_id}:"
                                     f"{due:%Y-%m-%d}:{email.lower()}",
                                 recipients=[email], subject=subject, kind="scoring.reminder",
                                 body=_("%(institution)s：贵机构 %(year)s 年度清廉金融自评尚未提交，"
                                        "请于截止日前由机构负责人提交。") % {"institution": name, "year": scheme.year})
                     for institution_id, name, email in emails]
            with transaction.atomic():
                queued += outbox.enqueue_many(mails)
                services.remind_by_channels(scheme, year, pending, due)  # SMS / robots too (notifications)
    return queued


@shared_task(name="scoring.generate_letters")
def generate_letters_task(district_id: int, year: int) -> list[int]:
    """The published district-year's letters to each use's recipient (idempotent)."""
    return [letter.pk for letter in services.generate_letters(district_id, year)]
