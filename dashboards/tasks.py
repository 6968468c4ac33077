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
def warm_cache(year: int, district_id: int) -> int:
    """Compute the results figures of one district's year (queued by services.results_changed)."""
    from . import warm

    try:
        return warm.warm_district(year, district_id)
    except Exception:  # a cold cache is only slower: never fail the aggregation or publish behind it
        log.warning("warming the dashboards' cache for %s / %s failed", year, district_id, exc_info=True)
        return 0
