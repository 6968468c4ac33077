import os
import re

import pytest
from rest_framework.test import APIClient

from tests.factories import InstitutionFactory, UserFactory, institution_user


def _own_redis_databases() -> None:
    """`make test` runs the suite in two processes (pytest-xdist; gw0, gw1): each gets its own test
    database (pytest-django) and, here, its own Redis databases for the cache and the test broker,
    four numbers further on per process (1, 2 → 5, 6; SQLite's 3, 4 → 7, 8), so one process's
    `cache.clear()` never empties the other's cache. Set in the environment too, for the processes a
    test starts (real Celery workers). Django's settings are read before this file: the cache's
    location is changed before anything used the cache."""
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    if not worker or worker.group(1) == "0":
        return
    from django.conf import settings

    offset = 4 * int(worker.group(1))
    for name in ("REDIS_URL", "TEST_CELERY_BROKER_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if match := re.fullmatch(r"(redis://[^/]+/)(\d+)", url):
            if int(match.group(2)) + offset > 15:  # Redis has databases 0–15
                raise RuntimeError(f"{name}: too many test processes for Redis' 16 databases (TEST_PROCESSES ≤ 3)")
            os.environ[name] = f"{match.group(1)}{int(match.group(2)) + offset}"
    if os.environ.get("REDIS_URL") and settings.CACHES["default"].get("LOCATION", "").startswith("redis://"):
        settings.CACHES["default"]["LOCATION"] = os.environ["REDIS_URL"]


_own_redis_databases()

REFERENCE_MIGRATIONS = [
    ("institutions.migrations.0002_reference_districts", "load"),
    ("institutions.migrations.0003_role_groups", "apply"),
    ("institutions.migrations.0006_import_permissions", "grant_import"),
    ("scoring.migrations.0002_role_permissions", "apply"),
    ("scoring.migrations.0006_district_years_final", "grant_year_permissions"),
    ("complaints.migrations.0002_seed_holidays", "seed"),
    ("complaints.migrations.0003_role_permissions", "apply"),
    ("warnings_feed.migrations.0002_role_permissions", "apply"),
    ("staff_points.migrations.0002_role_permissions", "apply"),
    ("accounts.migrations.0002_role_permissions", "apply"),
    ("dashboards.migrations.0002_role_permissions", "apply"),
]


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """A transactional test ends with Django's flush of every table. On PostgreSQL that is one
    TRUNCATE of ~120 tables, which makes new files for each table and index: 0.7–0.9 s per test on
    an idle machine, several seconds under load. DELETE of the few rows a test leaves takes 0.06–0.15 s
    (measured on the migrated schema). Every foreign key Django creates is DEFERRABLE INITIALLY
    DEFERRED, so the tables can be emptied in any order within flush's transaction. Sequences are
    left as TRUNCATE left them (no RESTART IDENTITY), unless a test asks for `reset_sequences`."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    truncate = operations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [f"DELETE FROM {self.quote_name(table)};" for table in tables]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = truncate


@pytest.fixture(autouse=True)
def _transactional_reference_data(request):
    # A transactional test's database may have been flushed by the one before it, reference data
    # (districts, role groups, holidays) included: put it back before any other fixture needs it.
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames:
        request.getfixturevalue("reference_data")


@pytest.fixture
def reference_data(transactional_db):
    """Re-run the migrations' (idempotent) data steps."""
    import importlib

    from django.apps import apps

    from institutions.models import District

    if District.objects.exists():
        return
    for module, function in REFERENCE_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Celery's eager run saves and restores a process-wide "joining would block" flag
    (celery._state); tests whose threads commit (and so queue eager tasks) concurrently can leave it
    set, and a later test's `.delay().get()` in the same process then raises. Reset after each test."""
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture
def api():
    return APIClient()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fc", roles=["finance_center"], is_staff=True)


@pytest.fixture
def two_institutions(db):
    return InstitutionFactory(code="A001", name="甲银行"), InstitutionFactory(code="B001", name="乙保险",
                                                                            category="insurance")


@pytest.fixture
def filer_a(two_institutions):
    return institution_user(two_institutions[0], "institution_filer", username="filer_a", is_staff=True)


@pytest.fixture
def filer_b(two_institutions):
    return institution_user(two_institutions[1], "institution_filer", username="filer_b", is_staff=True)


# Modules that need PostgreSQL: the risk rules are PostgreSQL SQL (window functions over arrays of
# rest days, COPY; docs/risk.md), so screening is refused on SQLite (503 before anything is stored:
# `risk.services.screening_unavailable`) and what is built on screened data is tested on PostgreSQL
# only (`make test`); `make test-sqlite` skips them with this reason. Loading and the API's refusals
# still run on SQLite.
POSTGRES_ONLY = {
    "tests/risk/test_rules.py", "tests/risk/test_fast_load.py", "tests/risk/test_screening.py",
    "tests/risk/test_concurrency.py", "tests/risk/test_demo.py", "tests/risk/test_alerts.py",
    "tests/risk/test_pages.py", "tests/dashboards/test_programme_panels.py", "tests/dashboards/test_risk_panel_sql.py",
}


def pytest_collection_modifyitems(config, items):
    from django.conf import settings as django_settings

    if "sqlite" not in django_settings.DATABASES["default"]["ENGINE"]:
        return
    root = config.rootpath
    skip = pytest.mark.skip(reason="needs PostgreSQL (the risk rules are PostgreSQL SQL)")
    for item in items:
        if str(item.path.relative_to(root)) in POSTGRES_ONLY:
            item.add_marker(skip)
