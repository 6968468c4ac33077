"""A Redis cache that degrades to "nothing cached" when Redis is unreachable.

Django's RedisCache raises on a connection error, so a Redis outage answered 500 on every page that
reads the cache (the public warnings, the blacklist API, the dashboards, the aggregation). This
backend logs the error and answers as a miss (reads return the default, writes store nothing), so
callers compute the value instead. Rate limits (core.ratelimits) use the client directly and fail
open on their own. Short socket timeouts (settings' OPTIONS) keep an unreachable server from
holding a request, and after a failure the cache is not asked again for RETRY_SECONDS (per process
and thread: one timeout in that time, not one per read; the warning logged once per outage seen).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _failed(operation: str, exc: Exception) -> None:
    logger.warning("cache %s skipped: Redis unreachable (%s)", operation, exc)


class ForgivingRedisCache(RedisCache):
    RETRY_SECONDS = 5.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0

    def _call(self, operation: str, fallback, call):
        """`call()`, or `fallback()` when Redis failed in the last RETRY_SECONDS or fails now."""
        if self._down_until and time.monotonic() < self._down_until:
            return fallback()
        try:
            value = call()
        except RedisError as exc:
            if not self._down_until:
                _failed(operation, exc)
            self._down_until = time.monotonic() + self.RETRY_SECONDS
            return fallback()
        self._down_until = 0.0
        return value

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", lambda: False,
                          lambda: super(ForgivingRedisCache, self).add(key, value, timeout, version))

    def get(self, key, default=None, version=None):
        return self._call("get", lambda: default, lambda: super(ForgivingRedisCache, self).get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", lambda: None, lambda: super(ForgivingRedisCache, self).set(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", lambda: False, lambda: super(ForgivingRedisCache, self).touch(key, timeout, version))

    def delete(self, key, version=None):
        return self._call("delete", lambda: False, lambda: super(ForgivingRedisCache, self).delete(key, version))

    def get_many(self, keys, version=None):
        return self._call("get_many", dict, lambda: super(ForgivingRedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None):
        return self._call("has_key", lambda: False, lambda: super(ForgivingRedisCache, self).has_key(key, version))

    def incr(self, key, delta=1, version=None):
        # A missing key still raises ValueError (Django's contract); an outage counts as missing.
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unreachable)")

        return self._call("incr", missing, lambda: super(ForgivingRedisCache, self).incr(key, delta, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", lambda: list(data),
                          lambda: super(ForgivingRedisCache, self).set_many(data, timeout, version))

    def delete_many(self, keys, version=None):
        self._call("delete_many", lambda: None, lambda: super(ForgivingRedisCache, self).delete_many(keys, version))

    def clear(self):
        return self._call("clear", lambda: False, lambda: super(ForgivingRedisCache, self).clear())
