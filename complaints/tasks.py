"""Celery tasks: thin wrappers over services, each idempotent (safe to run twice or concurrently)."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def send_pending_notifications() -> int:
    """Send everything waiting in the outbox (also run by beat every minute, so nothing is lost)."""
    return services.send_pending_notifications()


@shared_task(ignore_result=True)
def check_deadlines() -> int:
    """Beat: flag cases due soon and overdue and remind their handlers."""
    created = services.create_due_reminders()
    services.send_pending_notifications()
    return created


@shared_task(ignore_result=True)
def erase_expired_personal_data() -> int:
    """Beat: erase closed cases' personal data after the retention period."""
    return services.erase_expired_personal_data()


@shared_task(ignore_result=True)
def refresh_deadlines() -> int:
    """After the holiday table changed: recompute provisional due dates."""
    return services.refresh_deadlines(only_provisional=False)


@shared_task(name="complaints.rebuild_satisfaction_tallies", ignore_result=True)
def rebuild_satisfaction_tallies() -> int:
    """Beat, nightly: recompute the questionnaires' monthly tallies from the answers (repairs any drift)."""
    return services.rebuild_satisfaction_tallies()


@shared_task(name="complaints.rebuild_complaint_tallies", ignore_result=True)
def rebuild_complaint_tallies() -> int:
    """Beat, nightly: recompute the cases' monthly tallies from the cases (repairs any drift, follows a
    changed COMPLAINTS_SATISFIED_THRESHOLD)."""
    from . import tallies

    return tallies.rebuild_complaint_tallies()


@shared_task(name="complaints.remind_holiday_schedule", ignore_result=True)
def remind_holiday_schedule() -> int:
    """Beat, daily: in November and December, remind the finance center to enter next year's holiday
    schedule while the table lacks it (one mail a month; idempotent)."""
    return services.remind_holiday_schedule()
