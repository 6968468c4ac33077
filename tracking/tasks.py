"""Celery tasks: thin wrappers around services, each safe to run twice."""

from celery import shared_task

from . import services


@shared_task(name="tracking.send_reminders")
def send_reminders() -> int:
    """Beat, hourly: due-soon and overdue reminders and escalations (each once per due date)."""
    return services.send_reminders()
