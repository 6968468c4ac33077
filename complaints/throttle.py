"""Rate limits for the public endpoints: fixed-window counters in the shared cache.

With Django's Redis cache all of a request's counters go to Redis in one pipelined round trip
(INCR + EXPIRE per counter); with any other cache, django-ratelimit's counters are used.

Fails open: if the cache (Redis) is down, submissions are still accepted. Losing a rate limit for
a few minutes is better than losing a case.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django_ratelimit.core import is_ratelimited

from institutions.ratelimits import client_ip

logger = logging.getLogger(__name__)
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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
    client = getattr(backend, "_complaints_client", None)
    if client is None:
        client = backend._cache.get_client(write=True)
        backend._complaints_client = client
    return client, backend


def _over(request, checks: list[tuple[str, str, str]]) -> bool:
    """checks: (group, rate setting name, key value). True when any counter is over its rate."""
    active = [(group, parse_rate(getattr(settings, name, "")), value)
              for group, name, value in checks if getattr(settings, name, "")]
    if not active:
        return False
    client, backend = _redis_client()
    if client is None:  # not Redis: django-ratelimit's counters in whatever cache there is
        limited = False
        for group, name, value in checks:
            if getattr(settings, name, ""):
                limited |= is_ratelimited(request, group=f"complaints.{group}", key=lambda _g, _r, v=value: v,
                                          rate=getattr(settings, name), increment=True)
        return limited
    now = int(time.time())
    pipe = client.pipeline(transaction=False)
    for group, (_limit, period), value in active:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        key = backend.make_and_validate_key(f"rl:complaints:{group}:{period}:{now // period}:{digest}")
        pipe.incr(key)
        pipe.expire(key, period + 5)
    results = pipe.execute()
    return any(results[2 * i] > limit for i, (_g, (limit, _p), _v) in enumerate(active))


def _checked(request, checks: list[tuple[str, str, str]]) -> bool:
    try:
        return _over(request, checks)
    except Exception as exc:  # cache unreachable: fail open
        logger.warning("complaints: rate limit check skipped (%s)", exc)
        return False


def submission_limited(request, code: str) -> bool:
    # Both counters advance on every attempt, so neither can be dodged by tripping the other first.
    return _checked(request, [("submit-ip", "COMPLAINTS_RATE_SUBMIT_IP", client_ip(request)),
                              ("submit-code", "COMPLAINTS_RATE_SUBMIT_CODE", code or "-")])


def tracking_limited(request) -> bool:
    return _checked(request, [("track-ip", "COMPLAINTS_RATE_TRACK_IP", client_ip(request))])
