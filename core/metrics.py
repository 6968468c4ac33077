"""Prometheus metrics (API.md, "Operations": `GET /metrics`).

What is measured:
- requests by view, method and status, with their latencies (`MetricsMiddleware`);
- Celery tasks by name and outcome, with their durations (signals bound in CoreConfig.ready, so in
  every worker too);
- figures read when scraped: apps and the project plug in collectors with `register_collector(fn)`
  (`fn()` returns prometheus_client metric families): core's own are the tasks waiting in
  QueuedTask for an unreachable broker and the length of each Celery queue on the broker.

Several processes (gunicorn workers, Celery workers on this machine): set PROMETHEUS_MULTIPROC_DIR
to a folder shared by them, emptied before the processes start (deploy/ does it); each scrape then
sums every process's figures. Without it, a scrape shows the answering process's own.

Access: `/metrics` answers only a client address in METRICS_ALLOWED_IPS (addresses or networks,
e.g. 10.0.0.0/8; the address is the one the rate limits use, core.ratelimits.client_ip) or a request
with `Authorization: Bearer <METRICS_BEARER_TOKEN>` (when that setting is not empty); 403 otherwise.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .ratelimits import client_ip

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("portal_http_requests", "HTTP requests answered, by view, method and status",
                   ["view", "method", "status"])
REQUEST_LATENCY = Histogram("portal_http_request_duration_seconds", "Server time of HTTP requests",
                            ["view", "method"], buckets=LATENCY_BUCKETS)
EXCEPTIONS = Counter("portal_http_exceptions", "Requests that raised an unhandled exception", ["view"])
TASKS = Counter("portal_celery_tasks", "Celery tasks run, by task name and outcome", ["task", "state"])
TASK_LATENCY = Histogram("portal_celery_task_duration_seconds", "Run time of Celery tasks", ["task"],
                         buckets=(0.05, 0.25, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0))

COLLECTORS: list[Callable[[], Iterable]] = []


def register_collector(fn: Callable[[], Iterable]) -> Callable[[], Iterable]:
    """Add a scrape-time collector (idempotent: registering a function twice keeps one)."""
    if fn not in COLLECTORS:
        COLLECTORS.append(fn)
    return fn


class _Plugged:
    """The registered collectors as one prometheus_client collector; one failing is logged and
    skipped, never a failed scrape."""

    def collect(self):
        for fn in list(COLLECTORS):
            try:
                yield from fn()
            except Exception as exc:  # a broken figure must not hide the others
                logger.warning("metrics: collector %s failed: %s", getattr(fn, "__name__", fn), exc)


def registry() -> CollectorRegistry:
    """The registry a scrape reads: every process's figures in multiprocess mode, else this one's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
    else:
        from prometheus_client import REGISTRY as reg
    out = CollectorRegistry()
    out.register(_Union(reg))
    out.register(_Plugged())
    return out


class _Union:
    def __init__(self, reg):
        self.reg = reg

    def collect(self):
        return self.reg.collect()


# --- access ---------------------------------------------------------------------------------------

def _allowed_networks() -> list:
    networks = []
    for item in getattr(settings, "METRICS_ALLOWED_IPS", []) or []:
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            logger.warning("METRICS_ALLOWED_IPS: %r is not an address or a network", item)
    return networks


def allowed(request) -> bool:
    token = getattr(settings, "METRICS_BEARER_TOKEN", "") or ""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


@never_cache
def metrics_view(request):
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not allowed(request):
        return HttpResponse("403 Forbidden: metrics are served only to allowed addresses or tokens.\n",
                            status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


# --- requests -------------------------------------------------------------------------------------

def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return match.view_name or match._func_path


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Early in MIDDLEWARE: counts and times every answer, labelled by the resolved view's name (a
    bounded set: never the raw path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        except Exception:
            EXCEPTIONS.labels(_view_name(request)).inc()
            raise
        view = _view_name(request)
        if view == "<unresolved>" and request.path_info in ("/healthz", "/readyz"):
            view = request.path_info.strip("/")
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        REQUEST_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        return response


# --- Celery ---------------------------------------------------------------------------------------

_started: dict[str, float] = {}


_bound = False


def bind_celery_signals() -> None:
    global _bound
    if _bound:
        return
    _bound = True
    from celery.signals import task_failure, task_postrun, task_prerun, task_retry

    @task_prerun.connect(weak=False)
    def _pre(task_id=None, **_):
        if task_id:
            _started[task_id] = time.perf_counter()

    @task_postrun.connect(weak=False)
    def _post(task_id=None, task=None, state=None, **_):
        name = getattr(task, "name", "?")
        started = _started.pop(task_id, None)
        if started is not None:
            TASK_LATENCY.labels(name).observe(time.perf_counter() - started)
        TASKS.labels(name, (state or "unknown").lower()).inc()

    @task_failure.connect(weak=False)
    def _failed(sender=None, **_):
        pass  # counted by postrun with state FAILURE

    @task_retry.connect(weak=False)
    def _retry(sender=None, **_):
        TASKS.labels(getattr(sender, "name", "?"), "retry_requested").inc()


# --- core's own scrape-time figures ---------------------------------------------------------------

def queued_tasks_collector():
    from .models import QueuedTask

    family = GaugeMetricFamily("portal_queued_tasks_waiting",
                               "Tasks stored while the broker was unreachable, waiting for the drain")
    family.add_metric([], QueuedTask.objects.count())
    yield family


def celery_queue_collector():
    """The number of messages waiting in each Celery queue (Redis brokers: the list's length)."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    queues = sorted(set(getattr(settings, "METRICS_CELERY_QUEUES", None) or ["celery"]))
    family = GaugeMetricFamily("portal_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"])
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
    try:
        for queue in queues:
            family.add_metric([queue], client.llen(queue))
    finally:
        client.close()
    yield family


register_collector(queued_tasks_collector)
register_collector(celery_queue_collector)
