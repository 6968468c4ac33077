"""Celery tasks of core: thin and idempotent (safe to run twice or concurrently)."""

from celery import shared_task

from . import outbox


@shared_task(name="core.send_pending_mail", ignore_result=True)
def send_pending_mail() -> int:
    """Send the outbox's due mails (beat every minute, and kicked after each enqueuing commit)."""
    return outbox.send_pending()


@shared_task(name="core.drain_queued_tasks", ignore_result=True)
def drain_queued_tasks() -> int:
    """Publish the tasks stored while the broker was unreachable (beat every minute)."""
    from . import queue

    return queue.drain()


@shared_task(name="core.reap_stale_work", ignore_result=True)
def reap_stale_work() -> int:
    """Mark runs queued or running for longer than STALE_WORK_MINUTES failed (beat every 5 minutes)."""
    from . import queue

    return queue.reap()


@shared_task(name="core.purge_audit_logs", ignore_result=True)
def purge_audit_logs() -> int:
    """Delete audit rows older than AUDIT_RETENTION_DAYS (never under six months; beat nightly)."""
    from . import audit

    return sum(audit.purge_expired().values())


@shared_task(name="core.purge_export_jobs", ignore_result=True)
def purge_export_jobs() -> int:
    """Delete background exports finished more than EXPORT_RETENTION_DAYS ago, files included (beat nightly)."""
    from . import export_jobs

    return export_jobs.purge_expired()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="core.run_export_job")
def run_export_job(self, job_id: int) -> dict:
    """A background export (`core.export_jobs`): idempotent, a finished export is left as it is."""
    from . import export_jobs

    job = export_jobs.execute(job_id)
    return {"id": job.pk, "status": job.status}
