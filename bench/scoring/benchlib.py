"""Shared helpers of the scoring benchmark: database-URL checks and Django setup.

Only databases whose name starts with ``cf_bench`` are ever created, written or dropped.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
YEAR = 2026
SIZES = {"district": 60, "province": 5_000, "nation": 170_000}
BENCH_PREFIX = "cf_bench"


def database_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"only PostgreSQL URLs are supported, got {parts.scheme!r}")
    name = parts.path.lstrip("/")
    if not name.startswith(BENCH_PREFIX):
        raise SystemExit(f"refusing to touch database {name!r}: benchmark databases must be named {BENCH_PREFIX}*")
    return name


def connect_kwargs(url: str, dbname: str | None = None) -> dict:
    parts = urlsplit(url)
    kwargs = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
              "user": parts.username or "postgres", "dbname": dbname or parts.path.lstrip("/")}
    if parts.password:
        kwargs["password"] = parts.password
    return kwargs


def setup_django(url: str) -> None:
    """Point the project's settings at the benchmark database and initialise Django."""
    database_name(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DJANGO_DEBUG", "true")  # keeps the dev secret key acceptable; DEBUG off below
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django
    from django.conf import settings

    django.setup()
    # Query logging would hold every statement of a run in memory; production runs with DEBUG off.
    settings.DEBUG = False


@contextmanager
def step(label: str, out: dict | None = None):
    """Print how long a step took (and record it in `out`)."""
    print(f"  {label} …", end="", flush=True)
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    if out is not None:
        out[label] = elapsed
    print(f" {elapsed:.2f} s", flush=True)
