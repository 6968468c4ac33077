"""The portal's one rate limiter: fixed-window counters per visitor (or per any key) in the shared cache.

Every limit uses it: the complaint intake and tracking (complaints/throttle.py says which counters),
the public warnings pages and Atom feed (`public_read_limited`), and the public API reads
(`PublicReadThrottle`). The public reads share one allowance per visitor, PUBLIC_READ_RATE, read at
each request.

Visitors are told apart by `client_ip`: REMOTE_ADDR, or behind a reverse proxy the header it sets
(COMPLAINTS_CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP; for X-Forwarded-For the last entry, the one our
own proxy appended). A header the visitor sends cannot open a new allowance.

With Django's Redis cache all of a request's counters go to Redis in one pipelined round trip
(INCR + EXPIRE per counter); with any other cache, django-ratelimit's counters are used.

Fails open: if the cache (Redis) is down, the request goes through. Losing a rate limit for a few
minutes is better than losing a complaint.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# (group, rate "N/period" or "" for unlimited, key value): one counter of one request.
Check = tuple[str, str, str]


def client_ip(request) -> str:
    header = getattr(settings, "COMPLAINTS_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    if value:
        return value.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def parse_rate(rate: str) -> tuple[int, int]:
    """"30/h" → (30, 3600); "5/10m" → (5, 600)."""
    count, _, per = rate.partition("/")
    unit = per[-1:] if per[-1:] in _PERIODS else "s"
    multiple = per[:-1] if per[-1:] in _PERIODS else per
    return int(count), _PERIODS[unit] * (int(multiple) if multiple else 1)


def _redis_client():
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None, backend
    client = getattr(backend, "_ratelimit_client", None)
    if client is None:
        client = backend._cache.get_client(write=True)
        backend._ratelimit_client = client
    return client, backend


def _over(request, checks: list[Check]) -> bool:
    active = [(group, parse_rate(rate), value) for group, rate, value in checks if rate]
    if not active:
        return False
    client, backend = _redis_client()
    if client is None:  # not Redis: django-ratelimit's counters in whatever cache there is
        limited = False
        for group, rate, value in checks:
            if rate:
                limited |= is_ratelimited(request, group=group, key=lambda _g, _r, v=value: v, rate=rate,
                                          increment=True)
        return limited
    now = int(time.time())
    pipe = client.pipeline(transaction=False)
    for group, (_limit, period), value in active:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        key = backend.make_and_validate_key(f"rl:{group}:{period}:{now // period}:{digest}")
        pipe.incr(key)
        pipe.expire(key, period + 5)
    results = pipe.execute()
    return any(results[2 * i] > limit for i, (_g, (limit, _p), _v) in enumerate(active))


def over_limit(request, checks: Iterable[Check]) -> bool:
    """Count this request in each counter; True when any is over its rate. Every counter advances on
    every call, so none can be dodged by tripping another first. An empty rate is unlimited."""
    try:
        return _over(request, list(checks))
    except Exception as exc:  # cache unreachable: fail open
        logger.warning("rate limit check skipped (%s)", exc)
        return False


def seconds_to_next_window(rate: str) -> int:
    _count, period = parse_rate(rate)
    return period - int(time.time()) % period


# --- public reads -----------------------------------------------------------------------------------

def public_read_limited_request(request) -> bool:
    rate = getattr(settings, "PUBLIC_READ_RATE", "")
    return over_limit(request, [("public-read", rate, client_ip(request))])


def too_many_requests(request, base_template: str = "base.html"):
    """The friendly 429 page, in the look of the pages it stands for."""
    return render(request, "core/429.html", {"base_template": base_template}, status=429)


def public_read_limited(view):
    """Public read pages: at most PUBLIC_READ_RATE requests per visitor, then the friendly 429 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if public_read_limited_request(request):
            return too_many_requests(request)
        return view(request, *args, **kwargs)

    return wrapped


class PublicReadThrottle(BaseThrottle):
    """Public API reads: the same allowance as the public pages; 429 with Retry-After when spent."""

    def allow_request(self, request, view) -> bool:
        return not public_read_limited_request(request)

    def wait(self) -> int | None:
        rate = getattr(settings, "PUBLIC_READ_RATE", "")
        return seconds_to_next_window(rate) if rate else None
