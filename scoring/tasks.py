"""Celery tasks: thin wrappers around services, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from . import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="scoring.aggregate")
def aggregate_scores_task(self, run_id: int) -> dict:
    run = services.execute_run(run_id)
    return {"run": run.pk, "status": run.status, "institutions": run.institutions_total}


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
    """Beat: N days before the self-assessment deadline, mail institutions that have not submitted."""
    from institutions.models import Membership

    from .models import Scheme, SchemeStatus, YearStatus

    today = timezone.localdate()
    days = settings.SCORING_REMINDER_DAYS
    sent = 0
    for scheme in Scheme.objects.filter(status=SchemeStatus.ACTIVE, self_due_date=today + timedelta(days=days)):
        for year in services.district_years_using(scheme):
            if year.status != YearStatus.OPEN:
                continue
            pending = list(services.institutions_not_submitted(year))
            emails = (Membership.objects.filter(institution__in=pending).exclude(user__email="")
                      .values_list("institution__name", "user__email"))
            for name, email in emails:
                send_mail(f"【清廉金融】{scheme.year} 年度自评将于 {scheme.self_due_date:%Y-%m-%d} 截止",
                          f"{name}：贵机构 {scheme.year} 年度清廉金融自评尚未提交，请于截止日前由机构负责人提交。",
                          None, [email])
                sent += 1
    return sent
