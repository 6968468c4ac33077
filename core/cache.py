"""A Redis cache that degrades to "nothing cached" when Redis is unreachable.

Django's RedisCache raises on a connection error, so a Redis outage answered 500 on every page that
reads the cache (the public warnings, the blacklist API, the dashboards, the aggregation). This
backend logs the error and answers as a miss (reads return the default, writes store nothing), so
callers compute the value instead. Rate limits (core.ratelimits) use the client directly and fail
open on their own. Short socket timeouts (settings' OPTIONS) keep an unreachable server from
holding a request.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _failed(operation: str, exc: Exception) -> None:
    logger.warning("cache %s skipped: Redis unreachable (%s)", operation, exc)


class ForgivingRedisCache(RedisCache):
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            _failed("add", exc)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            _failed("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            _failed("set", exc)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            _failed("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            _failed("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            _failed("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            _failed("has_key", exc)
            return False

    def incr(self, key, delta=1, version=None):
        # A missing key still raises ValueError (Django's contract); an outage counts as missing.
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            _failed("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unreachable)") from exc

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            _failed("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            _failed("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except RedisError as exc:
            _failed("clear", exc)
            return False
