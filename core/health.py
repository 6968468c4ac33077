"""Liveness and readiness for load balancers and orchestrators (API.md, "Operations").

- `/healthz`: 200 `{"status": "ok"}` while the process serves; checks nothing else, so a database
  outage never makes a balancer kill every web process at once.
- `/readyz`: 200 `{"status": "ok", "checks": {...}}` when the database, the cache and the broker
  (when one is configured) answer; 503 `{"status": "unavailable", "checks": {...}, "failed": [...]}`
  naming the failing checks otherwise.

`ProbeMiddleware`, first in MIDDLEWARE, answers both before the host check, the HTTPS redirect,
sessions and authentication: a balancer probing `http://10.0.0.5/healthz` gets the answer, not a
400 for an unlisted host or a redirect. The views below serve the same answers through the URLconf.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

PROBE_PATHS = {"/healthz": "healthz", "/readyz": "readyz"}


def check_database() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def check_cache() -> None:
    # core.cache.ForgivingRedisCache answers a miss instead of raising: a round trip tells.
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def broker_url() -> str:
    return getattr(settings, "CELERY_BROKER_URL", "") or ""


def check_broker() -> None:
    from kombu import Connection

    timeout = getattr(settings, "READYZ_BROKER_TIMEOUT", 1.0)
    with Connection(broker_url(), connect_timeout=timeout,
                    transport_options={"socket_timeout": timeout, "socket_connect_timeout": timeout,
                                       "max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)


def run_checks() -> dict[str, str]:
    checks = {"database": check_database, "cache": check_cache}
    if broker_url():
        checks["broker"] = check_broker
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # every failure is an answer, never a 500
            logger.warning("readyz: %s failed: %s", name, exc)
            results[name] = f"fail: {type(exc).__name__}"
        else:
            results[name] = "ok"
    return results


def healthz_response() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz_response() -> JsonResponse:
    checks = run_checks()
    failed = [name for name, outcome in checks.items() if outcome != "ok"]
    if failed:
        return JsonResponse({"status": "unavailable", "checks": checks, "failed": failed}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@never_cache
def healthz(request):
    return healthz_response()


@require_safe
@never_cache
def readyz(request):
    return readyz_response()


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBE_PATHS.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return _no_store(healthz_response() if probe == "healthz" else readyz_response())
