"""Celery tasks: thin wrappers around services, each safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, name="warnings_feed.fan_out")
def fan_out_warning(warning_id: int) -> int:
    """Deliver one warning to every employee in its scope (idempotent); returns deliveries added."""
    return services.fan_out(warning_id)


@shared_task(name="warnings_feed.publish_due")
def publish_due_warnings() -> list[int]:
    """Beat, every minute: deliver scheduled warnings whose time has come (and any lost fan-out)."""
    return services.publish_due()


@shared_task(name="warnings_feed.remind_unacknowledged")
def remind_unacknowledged() -> int:
    """Beat, daily: mail employees who have not acknowledged a warning after N days."""
    return services.send_reminders()


@shared_task(name="warnings_feed.rebuild_tallies")
def rebuild_tallies() -> int:
    """Beat, nightly: recount every acknowledgement tally from the deliveries (idempotent).

    The services keep them exact as warnings are delivered, read and acknowledged; this puts right
    what no service sees, such as deliveries that cascade away with a deleted employee. Returns how
    many tallies were added, corrected or removed.
    """
    return services.rebuild_tallies()
