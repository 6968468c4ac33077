"""Transaction-level advisory locks: one holder of a (namespace, key) at a time, released at commit or
rollback. PostgreSQL only; elsewhere (SQLite, which runs one writer at a time) holding is a no-op."""

from __future__ import annotations

import hashlib

from django.db import connection


def key_of(text: str) -> int:
    """A 32-bit key (signed, as the lock function takes it) for a text such as a phone number."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big", signed=True)


def hold(namespace: int, key: int) -> None:
    """Inside a transaction: wait until no other transaction holds (namespace, key), then hold it
    until this one ends."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])
