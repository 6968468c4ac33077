"""Celery tasks: thin wrappers around services, each safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="inspections.recount_tallies")
def recount_tallies() -> int:
    """Beat, nightly: recount the stored rectification figures (overdue moves with the calendar)."""
    return services.recount_all()


@shared_task(name="inspections.render_notice")
def render_notice(visit_id: int) -> bool:
    """After a finding is added: render and store the visit's rectification notice (PDF)."""
    return services.prerender_notice(visit_id)
