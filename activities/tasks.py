"""Celery tasks: thin wrappers around services, safe to run twice."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, name="activities.build_archive")
def build_archive(self, job_id: int) -> dict:
    job = services.run_archive(job_id)
    return {"job": job_id, "status": job.status if job else None}

