"""Background exports (issue 16): a file too big to write inside a request is made by a Celery task,
with its progress shown, and downloaded by its requester when ready — the annual report's pattern
(`dashboards.services`), shared by every app's large export.

A feature app registers a kind in its `AppConfig.ready` (`register`): a function building the file
from the requester and the export page's query string, the same function its page calls to answer a
small export at once. Its page then answers a small export directly and offers a large one
(`too_big`) to be made in the background (`request_export`, enqueued after commit; the same request
while one is queued or running gives that one back). The task (`core.tasks.run_export_job`) runs
the builder as the requester, in the requester's language, with the requester's rights at that time;
a redelivered message for a finished export does nothing. Stale runs are marked failed by core's
reaper (`reap_stale`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone, translation

from .models import ExportJob
from .queue import enqueue_after_commit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    name: str
    content_type: str


# builder(user, query: QueryDict, progress: Callable[[int], None]) -> ExportFile
Builder = Callable[..., ExportFile]


@dataclass(frozen=True)
class ExportKind:
    key: str
    build: Builder
    back_url: str = ""  # the page the export came from (a URL name), for the job page's link


KINDS: dict[str, ExportKind] = {}


def register(key: str, build: Builder, back_url: str = "") -> None:
    KINDS[key] = ExportKind(key, build, back_url)


def inline_limit() -> int:
    """Rows (or institutions) up to which a page writes the file in the request (EXPORT_INLINE_ROWS)."""
    return int(getattr(settings, "EXPORT_INLINE_ROWS", 2000))


def too_big(rows: int) -> bool:
    return rows > inline_limit()


def params_of(query: QueryDict) -> dict[str, list[str]]:
    """A query string as JSON (every value of every key, in a stable order)."""
    return {key: query.getlist(key) for key in sorted(query.keys())}


def query_of(params: dict[str, list[str]]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, values in (params or {}).items():
        query.setlist(key, [str(v) for v in values])
    query._mutable = False
    return query


def request_export(user, kind: str, query: QueryDict) -> ExportJob:
    """The export of `kind` for `user` with these parameters: the one already queued or running, or a
    new one whose task is enqueued once this transaction commits."""
    from .tasks import run_export_job

    if kind not in KINDS:
        raise KeyError(kind)
    params = params_of(query)
    pending = (ExportJob.objects.filter(created_by=user, kind=kind, params=params,
                                        status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING])
               .order_by("-created_at", "-id").first())
    if pending is not None:
        return pending
    job = ExportJob.objects.create(kind=kind, params=params, created_by=user,
                                   language=translation.get_language() or settings.LANGUAGE_CODE)
    enqueue_after_commit(run_export_job, job.pk)
    return job


def _progress(job_id: int, percent: int) -> None:
    # A plain UPDATE outside any transaction: the polling page sees it at once.
    ExportJob.objects.filter(pk=job_id).update(progress=max(0, min(99, int(percent))))


def execute(job_id: int) -> ExportJob:
    """Body of the Celery task: build the file as the requester, store it, mark the export done."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ExportJob.Status.SUCCEEDED:
        return job  # a redelivered message for a finished export
    kind = KINDS.get(job.kind)
    job.status, job.started_at, job.error, job.progress = ExportJob.Status.RUNNING, timezone.now(), "", 1
    job.save(update_fields=["status", "started_at", "error", "progress"])
    try:
        if kind is None:
            raise KeyError(f"unknown export kind {job.kind}")
        with translation.override(job.language or settings.LANGUAGE_CODE):
            made = kind.build(job.created_by, query_of(job.params), lambda p: _progress(job.pk, p))
        job.refresh_from_db()
        job.file.save(made.name, ContentFile(made.content), save=False)
    except Exception as exc:
        log.exception("export %s failed", job_id)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        raise
    job.file_name, job.content_type = made.name, made.content_type
    job.status, job.progress, job.finished_at = ExportJob.Status.SUCCEEDED, 100, timezone.now()
    job.save(update_fields=["file", "file_name", "content_type", "status", "progress", "finished_at"])
    return job


def reap_stale(older_than) -> int:
    """core's reaper: exports still queued since before `older_than`, or running since then, failed."""
    from .queue import stale_reason

    stale = ExportJob.objects.filter(Q(status=ExportJob.Status.QUEUED, created_at__lt=older_than)
                                     | Q(status=ExportJob.Status.RUNNING, started_at__lt=older_than))
    return stale.update(status=ExportJob.Status.FAILED, error=stale_reason(), finished_at=timezone.now())


def purge_expired(now=None) -> int:
    """Exports finished (made or failed) more than EXPORT_RETENTION_DAYS ago are deleted with their
    files (beat nightly, `core.purge_export_jobs`): a file is the requester's download, not an archive,
    and holds personal data (names in the ledger, complainants' figures). Queued and running exports
    are never touched. Idempotent; returns the number of exports deleted."""
    from datetime import timedelta

    days = max(1, int(getattr(settings, "EXPORT_RETENTION_DAYS", 7)))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    expired = ExportJob.objects.filter(status__in=[ExportJob.Status.SUCCEEDED, ExportJob.Status.FAILED],
                                       finished_at__lt=cutoff).order_by("pk")
    deleted = 0
    for job in expired.iterator(chunk_size=500):
        if job.file:
            try:
                job.file.delete(save=False)
            except OSError:  # already gone from the store: the row goes all the same
                log.warning("export %s: its file %s could not be deleted", job.pk, job.file.name)
        deleted += ExportJob.objects.filter(pk=job.pk).delete()[0]
    return deleted


def job_for(user, pk: int) -> ExportJob | None:
    """The export `pk` if `user` requested it (nobody else sees it, not even its district's staff)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return ExportJob.objects.filter(pk=pk, created_by=user).first()
