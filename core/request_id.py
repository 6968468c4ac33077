"""Request ids: every request gets one (the proxy's `X-Request-ID` when it is well formed, else a
new one), answered in the response's `X-Request-ID` header and attached to every log record written
while the request runs (`RequestIdFilter`), and to the Celery tasks it queues (their log lines carry
the same id: `bind_celery_signals`).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import time
import uuid

HEADER = "HTTP_X_REQUEST_ID"
RESPONSE_HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

logger = logging.getLogger("portal.request")


def current() -> str:
    """The id of the request (or task) running now, "-" outside one."""
    return _current.get()


def new_id() -> str:
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """A client's id when it is safe to log (letters, digits, `._:-`, at most 64), else a new one."""
    return value if value and _VALID.match(value) else new_id()


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (for the formatters: `%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True


class RequestIdMiddleware:
    """First in MIDDLEWARE: sets the id, logs one line per request (method, path, status, time)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept(request.META.get(HEADER))
        request.request_id = request_id
        token = _current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[RESPONSE_HEADER] = request_id
            logger.info("%s %s %s %.1fms", request.method, request.path, response.status_code,
                        (time.perf_counter() - started) * 1000,
                        extra={"method": request.method, "path": request.path,
                               "status": response.status_code,
                               "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            return response
        finally:
            _current.reset(token)


_bound = False


def bind_celery_signals() -> None:
    global _bound
    if _bound:
        return
    _bound = True
    """Carry the id from the request that queues a task to the worker that runs it."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    @before_task_publish.connect(weak=False)
    def _stamp(headers=None, **_):
        if headers is not None and "request_id" not in headers:
            headers["request_id"] = _current.get()

    @task_prerun.connect(weak=False)
    def _enter(task=None, **_):
        value = getattr(getattr(task, "request", None), "request_id", None) if task else None
        task._request_id_token = _current.set(accept(value) if value and value != "-" else new_id())

    @task_postrun.connect(weak=False)
    def _leave(task=None, **_):
        token = getattr(task, "_request_id_token", None)
        if token is not None:
            with contextlib.suppress(ValueError):  # set in another context (eager tasks in a request)
                _current.reset(token)
            task._request_id_token = None
