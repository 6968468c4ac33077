"""Celery tasks: thin wrappers around services, each safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="inspections.recount_tallies")
def recount_tallies() -> int:
    """Beat, nightly: recount the stored rectification figures (overdue moves with the calendar)."""
    return services.recount_all()
