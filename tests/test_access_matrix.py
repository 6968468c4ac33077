"""The authorization matrix (issue #10, item 9): every route × every role × own / same-district /
other-district object, for reads and writes, against one table (tests/access_matrix/table.py).

The routes come from the URLconf and the admin registry: a route without an entry in the table fails,
and so does an entry naming a route that no longer exists. The data is built once for the module
(tests/access_matrix/world.py) inside a transaction rolled back at the end; every request runs in its
own savepoint (so the tests need no transaction of their own), and every refused write is followed by
a check that the database did not change.
Cells where the app answers otherwise than DOMAIN.md are listed in tests/access_matrix/gaps.py and
fail as expected (xfail, strict).

MATRIX_DUMP=<file> writes every cell's outcome as JSON lines (to review the table or the gaps).
"""

from __future__ import annotations

import json
import os
import time

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings

from tests.access_matrix import routes
from tests.access_matrix.gaps import GAPS, KNOWN_GAPS
from tests.access_matrix.runner import Fingerprint, Matrix, accepts
from tests.access_matrix.runner import request as runner_request
from tests.access_matrix.table import TABLE
from tests.access_matrix.world import ROLES, build_world

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
UNLIMITED = "100000/m"


def _paths(root):
    return {"MEDIA_ROOT": root / "media", "COMPLAINTS_EVIDENCE_ROOT": root / "evidence",
            "DASHBOARDS_REPORTS_ROOT": root / "reports", "EXPORTS_ROOT": root / "exports"}


def _rates():
    return {"PUBLIC_READ_RATE": "", "COMPLAINTS_RATE_SUBMIT_IP": UNLIMITED, "COMPLAINTS_RATE_SUBMIT_CODE": UNLIMITED,
            "COMPLAINTS_RATE_TRACK_IP": UNLIMITED}


def _reference_data():
    """What the migrations load (districts, role groups, holidays): gone when a transactional test of
    another module flushed the database before this one; put back inside the module's transaction."""
    import importlib

    from django.apps import apps

    from institutions.models import District
    from tests.conftest import REFERENCE_MIGRATIONS

    if not District.objects.exists():
        for module, function in REFERENCE_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)


def _clear_app_caches():
    from complaints import selectors

    selectors.clear_holiday_cache()
    selectors.clear_code_cache()


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):
    root = tmp_path_factory.mktemp("access-matrix")
    overrides = override_settings(
        # Sessions in signed cookies: logging in once per module, and no session row written per request.
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        PASSWORD_HASHERS=FAST_HASHER, CELERY_TASK_ALWAYS_EAGER=True, **_paths(root), **_rates())
    overrides.enable()
    try:
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                _reference_data()
                cache.clear()
                _clear_app_caches()
                world = build_world()
                clients = {"anon": Client(raise_request_exception=False)}
                for role, user in world.users.items():
                    clients[role] = Client(raise_request_exception=False)
                    clients[role].force_login(user)
                yield Matrix(world, clients, Fingerprint())
            finally:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
    finally:
        overrides.disable()


# tests/conftest.py gives each test its own MEDIA_ROOT (where the world's files are not) and an empty
# cache. Here the module's settings (above) hold for every test, and no cell depends on the cache
# (rates are unlimited): both autouse fixtures are replaced for this module.
@pytest.fixture
def _isolated_settings():
    return None


@pytest.fixture
def _clear_cache():
    return None


# --- the table against the routes ------------------------------------------------------------------


def test_every_route_has_an_entry():
    missing = sorted(set(routes.all_routes()) - set(TABLE))
    assert not missing, f"routes without an entry in tests/access_matrix/table.py: {missing}"


def test_every_entry_is_a_route():
    gone = sorted(set(TABLE) - set(routes.all_routes()))
    assert not gone, f"entries of tests/access_matrix/table.py naming no route: {gone}"


def test_every_admin_model_has_its_five_views_in_the_table():
    missing = sorted(set(routes.admin_route_names()) - set(TABLE))
    assert not missing, missing


def test_known_gaps_name_cells_of_the_table():
    wrong = []
    for (route, role, target, method), (_got, expected, _why) in KNOWN_GAPS.items():
        grid = TABLE[route].methods().get(method, {}) if route in TABLE else {}
        if grid.get(role, {}).get(target) != expected:
            wrong.append((route, role, target, method, expected, grid.get(role, {}).get(target)))
    assert not wrong, f"KNOWN_GAPS entries that do not match the table (route, role, target, method, listed, " \
                      f"table): {wrong}"
    assert sum(len(cells) for cells in GAPS.values()) == len(KNOWN_GAPS), "a cell is listed twice in GAPS"


# --- the matrix --------------------------------------------------------------------------------------

FOREIGN = {"filer": "BC", "head": "BC", "emp": "BC"}  # what is not their own, per role (others: C)


def _foreign(role: str, target: str) -> bool:
    return target[0] in FOREIGN.get(role, "C")


def _dump(rows):
    path = os.environ.get("MATRIX_DUMP")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


@pytest.mark.parametrize("key", sorted(TABLE))
def test_matrix(matrix, key):
    """One route: every role, target and method of its row (one test per route keeps the module fast;
    the failure lists the cells)."""
    route = TABLE[key]
    failures, expected_failures, fixed, rows = [], [], [], []
    for role in ROLES:
        for method, grid in route.methods().items():
            for target, token in grid[role].items():
                if token == "-":
                    continue
                started = time.perf_counter()
                outcome, _response = matrix.ask(key, route, role, method, target, token)
                elapsed = round((time.perf_counter() - started) * 1000, 1)
                ok = accepts(token, method, outcome)
                if ok and token == "no" and outcome == "deny" and _foreign(role, target):
                    # A 403 for someone else's object must also be the answer for one that does not exist.
                    missing, _ = matrix.ask(key, route, role, method, "X", token)
                    if missing != outcome:
                        ok, outcome = False, f"{outcome} (but {missing} for a missing object)"
                rows.append({"route": key, "role": role, "method": method, "target": target, "expected": token,
                             "got": outcome, "ok": ok, "ms": elapsed})
                cell = f"{role} {method} {target}: expected {token}, got {outcome}"
                gap = KNOWN_GAPS.get((key, role, target, method))
                if gap is None:
                    if not ok:
                        failures.append(cell)
                elif ok:
                    fixed.append(f"{cell} (listed in KNOWN_GAPS: remove it)")
                else:
                    expected_failures.append(f"{cell} [{gap[2]}]")
    _dump(rows)
    assert not failures + fixed, f"{key}:\n  " + "\n  ".join(failures + fixed)
    if expected_failures:
        pytest.xfail("known gaps: " + "; ".join(expected_failures))


# --- bad bodies on every write route (issue #11, item 1) ---------------------------------------------

BAD_VALUES = ["x" * 5000, "-1", "99999999999999999999", "1e309", "", "２０２６", "2026-02-30", "{\"a\": []}"]


def _bad_bodies(body: dict):
    """The route's minimal body with every field replaced by each bad value in turn (files and
    lists left out: a file field gets a plain string, which is a bad value too)."""
    for value in BAD_VALUES:
        yield {key: value for key in body} or {"x": value}
        for key in body:  # one field at a time: the others stay valid, so the bad one is reached
            yield {**body, key: value}


@pytest.mark.parametrize("key", sorted(k for k, r in TABLE.items() if r.post or r.put))
def test_bad_bodies_are_never_a_server_error(matrix, key):
    """Every POST/PUT route, as a role whose business it is (and anonymously when public), with its body's
    fields set to huge, negative, overflowing, empty, full-width, impossible-date and JSON-shaped
    values: a 4xx (or the ordinary success), never a 5xx; every request rolled back."""
    route = TABLE[key]
    errors = []
    for method, grid in route.methods().items():
        if method == "GET":
            continue
        # The first role whose business the route is (the one whose body gets past the authorization),
        # and the anonymous visitor on public routes.
        roles = [role for role in ROLES if grid[role].get("A", grid[role].get("-")) == "ok"][:1]
        roles += ["anon"] if route.public else []
        target = "A" if "A" in grid["anon"] else next(iter(grid["anon"]))
        try:
            base = route.data(matrix.world, target) if route.body is not None else {}
        except Exception:  # a body builder that needs another target: the minimal body is empty
            base = {}
        base = {k: v for k, v in base.items() if isinstance(v, (str, int, float, bool, type(None)))}
        url = route.url(matrix.world, key, target)
        for role in roles:
            for body in _bad_bodies(base):
                with transaction.atomic():
                    response = runner_request(matrix.clients[role], method, url, body, key.startswith("api:"))
                    transaction.set_rollback(True)
                if response.status_code >= 500:
                    errors.append(f"{role} {method} {url} {str(body)[:120]} -> {response.status_code}")
                    break
    assert not errors, "\n".join(errors)
