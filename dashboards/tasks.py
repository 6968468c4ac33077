"""Celery tasks: the annual report, and warming the dashboards' cache after results change."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="dashboards.annual_report")
def generate_annual_report(self, report_id: int) -> dict:
    report = services.execute_report(report_id)
    return {"report": report.pk, "status": report.status}


@shared_task(name="dashboards.warm_cache")
def warm_cache(year: int) -> int:
    """Compute the results figures of every district for `year` (after an aggregation or a publish)."""
    from . import warm

    try:
        services.refresh_item_scores(year)
        return warm.warm_year(year)
    except Exception:  # a cold cache is only slower: never fail the aggregation or publish behind it
        log.warning("warming the dashboards' cache for %s failed", year, exc_info=True)
        return 0


@shared_task(name="dashboards.refresh_item_scores")
def refresh_item_scores(year: int) -> int:
    """Rewrite the year's per-item score summary (queued when a reader found it behind the results)."""
    return services.refresh_item_scores(year)
