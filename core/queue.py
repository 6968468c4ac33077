"""The one way apps queue Celery work: after the caller's commit, never blocking a request on a
dead broker, never losing the work.

`enqueue_after_commit(task, *args, **kwargs)` publishes the task once the current transaction
commits (at once outside a transaction). Publishing uses `retry=False` and the broker's short
connection timeout (CELERY_BROKER_CONNECTION_TIMEOUT), so an unreachable broker costs the request
about two seconds at most; the call is then stored in `QueuedTask` and the beat job
`core.drain_queued_tasks` (every minute) publishes it again once the broker is back. With Celery
running eagerly (no broker configured) the task runs in process, as before.

`register_reaper(fn)` lets an app plug in a function that marks its stale runs failed (a worker
killed half-way, a task never delivered); the beat job `core.reap_stale_work` calls each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .errors import Unavailable
from .models import QueuedTask

logger = logging.getLogger(__name__)

BATCH = 200
REAPERS: list[Callable[[timezone.datetime], int]] = []


def enqueue_after_commit(task, *args, **kwargs) -> None:
    """Publish `task(*args, **kwargs)` after the current transaction commits (arguments must be
    JSON-serialisable: they may wait in the database)."""
    transaction.on_commit(partial(publish, task, args, kwargs))


def publish(task, args=(), kwargs=None) -> bool:
    """Publish now. Returns True when the broker took it (or it ran eagerly), False when it was
    stored in `QueuedTask` for the drain. Exceptions of an eagerly run task propagate as before."""
    kwargs = kwargs or {}
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return True
    try:
        publish_now(task, args, kwargs)
    except Exception as exc:  # the broker is unreachable: keep the call for the drain
        logger.warning("queue: could not publish %s (%s); stored for the next drain", task.name, exc)
        QueuedTask.objects.create(task_name=task.name, args=list(args), kwargs=kwargs, last_error=str(exc)[:2000])
        return False
    return True


UNAVAILABLE = gettext_lazy(
    "任务队列暂时无法连接，这项操作需要立即执行，未能完成。请稍后再试；如持续出现，请联系系统管理员。")


def publish_or_refuse(task, args=(), kwargs=None) -> None:
    """For work that cannot wait (the person asked for it now): publish, or refuse with a 503
    (core.errors.Unavailable) within the same two seconds; nothing is stored for a later drain."""
    try:
        publish_now(task, args, kwargs or {})
    except Exception as exc:
        logger.warning("queue: %s refused, broker unreachable (%s)", task.name, exc)
        raise Unavailable(UNAVAILABLE) from exc


def publish_stored_now(rows, app=None) -> int:
    """Publish these stored calls now (the admin's action), each once; refuses with a 503 when the
    broker is still unreachable (what was published before that stays published)."""
    if app is None:
        from celery import current_app as app
    published = 0
    for row in rows:
        failure = None
        with transaction.atomic():
            locked = QueuedTask.objects.select_for_update(skip_locked=True).filter(pk=row.pk).first()
            if locked is None:  # the drain has it (or sent it already)
                continue
            task = app.tasks.get(locked.task_name)
            try:
                if task is not None:
                    publish_now(task, locked.args, locked.kwargs)
                else:
                    app.send_task(locked.task_name, locked.args, locked.kwargs, retry=False)
            except Exception as exc:
                failure = exc
                QueuedTask.objects.filter(pk=locked.pk).update(attempts=locked.attempts + 1,
                                                               last_error=str(exc)[:2000])
            else:
                locked.delete()
                published += 1
        if failure is not None:  # the attempt is recorded (committed) before the refusal
            raise Unavailable(UNAVAILABLE) from failure
    return published


def publish_now(task, args, kwargs) -> None:
    """Publish through a pooled connection, connecting with two quick tries at most (each bounded
    by CELERY_BROKER_CONNECTION_TIMEOUT) instead of kombu's default retries for the whole timeout
    with 2-second sleeps: a dead broker costs a request under 2 s."""
    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return
    with task.app.pool.acquire(block=True) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
        task.apply_async(args, kwargs, retry=False, connection=connection)


def drain(app=None) -> int:
    """Publish the stored calls again, oldest first (the beat job). Stops at the first failure (the
    broker is still down); returns how many were published."""
    if app is None:
        from celery import current_app as app
    published = 0
    while True:
        with transaction.atomic():
            rows = list(QueuedTask.objects.select_for_update(skip_locked=True).order_by("created_at", "id")[:BATCH])
            if not rows:
                return published
            for row in rows:
                task = app.tasks.get(row.task_name)
                try:
                    if task is not None:
                        publish_now(task, row.args, row.kwargs)
                    else:
                        app.send_task(row.task_name, row.args, row.kwargs, retry=False)
                except Exception as exc:
                    QueuedTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1,
                                                                last_error=str(exc)[:2000])
                    logger.warning("queue: drain stopped, %s not published (%s)", row.task_name, exc)
                    return published
                row.delete()
                published += 1


def register_reaper(fn: Callable) -> None:
    """Add a function `fn(older_than) -> int` that marks the app's runs still queued or running
    since before `older_than` failed (with a Chinese reason) and returns how many it marked."""
    if fn not in REAPERS:
        REAPERS.append(fn)


def stale_before(now=None):
    """Work queued or started before this moment is stale (STALE_WORK_MINUTES)."""
    return (now or timezone.now()) - timedelta(minutes=_stale_minutes())


def reap(now=None) -> int:
    """Run every registered reaper (the beat job); one app's failure does not stop the others."""
    older_than = stale_before(now)
    marked = 0
    for fn in REAPERS:
        try:
            marked += fn(older_than)
        except Exception:
            logger.exception("queue: reaper %s failed", fn)
    return marked


STALE_REASON = gettext_lazy("超过 {minutes} 分钟仍未完成（任务未送达或执行进程中断），已标记为失败，请重新发起")


def stale_reason() -> str:
    return STALE_REASON.format(minutes=_stale_minutes())


def _stale_minutes() -> int:
    return getattr(settings, "STALE_WORK_MINUTES", 120)
