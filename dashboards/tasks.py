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
def warm_cache(year: int, district_ids: int | list[int]) -> int:
    """Compute the results figures of districts' year (queued by services.results_changed; one
    district id in messages queued by earlier versions). Returns the figures computed."""
    from . import warm

    computed = 0
    for district_id in [district_ids] if isinstance(district_ids, int) else district_ids:
        try:
            computed += warm.warm_district(year, district_id)
        except Exception:  # a cold cache is only slower: never fail the aggregation or publish behind it
            log.warning("warming the dashboards' cache for %s / %s failed", year, district_id, exc_info=True)
    return computed
