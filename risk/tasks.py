"""风险预警's Celery tasks: thin, idempotent; queued through risk.services."""

from celery import shared_task

from . import services


@shared_task(name="risk.run_screening")
def run_screening(screening_id: int) -> None:
    services.run_screening(screening_id)


@shared_task(name="risk.screen_previous_month")
def screen_previous_month() -> int:
    return services.screen_previous_month()


@shared_task(name="risk.purge_expired")
def purge_expired() -> int:
    return services.purge_expired()


@shared_task(name="risk.remind_overdue")
def remind_overdue() -> int:
    """Daily: alerts due soon (once per due date) and overdue (once a day), by mail and channels."""
    return services.remind_due_soon() + services.remind_overdue()


@shared_task(name="risk.refresh_summaries")
def refresh_summaries() -> int:
    return services.refresh_all_summaries()
