"""Issue #11, item 1: a sweep over every GET operation of the API schema that takes query parameters,
and the pages' common filters, sending a NUL, a huge, a negative, a zero and a very long value to each
parameter as the finance center, an institution's filer and an anonymous visitor: never a 5xx."""

import time

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db

VALUES = ["\x00", "9" * 20, "-1", "0", "x" * 3000, "２０２６", "1e309"]
PATH_SAMPLES = {"year": "2026", "code": "SW-01", "pk": "1", "id": "1"}
# Pages with filters in their query string (the API's are read from the schema).
PAGES = {
    "/complaints/": ["institution", "status", "kind", "q", "district", "page", "year"],
    "/complaints/stats/": ["year", "district", "category"],
    "/dashboards/district/": ["district", "year", "category"],
    "/dashboards/institutions/SW-01/": ["year"],
    "/dashboards/district/rows/ranking/": ["district", "year", "category", "page"],
    "/dashboards/city/": ["year", "category"],
    "/scoring/": ["year", "district"],
    "/scoring/years/2026/": ["district", "status", "category"],
    "/warnings/": ["year", "page", "q", "status"],
    "/warnings/manage/": ["page", "q", "status", "district"],
    "/public/warnings/": ["page", "q", "year"],
    "/points/me/": ["year"],
    "/points/staff/": ["year", "q", "page", "institution"],
    "/points/blacklist/": ["q", "page", "status"],
}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.AXES_ENABLED = False
    settings.PUBLIC_READ_RATE = ""


def get_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p.get("in") == "query"]
        if not names:
            continue
        for key, sample in PATH_SAMPLES.items():
            path = path.replace("{" + key + "}", sample)
        if "{" in path:
            path = path.split("{")[0] + "1/" + path.split("}", 1)[1].lstrip("/")
        yield path, names


def test_no_query_parameter_value_is_a_server_error():
    bank = InstitutionFactory(code="SW-01", name="扫测银行")
    finance = UserFactory(username="sweep-fc", roles=["finance_center"], is_staff=True)
    filer = institution_user(bank, "institution_filer", username="sweep-filer")
    api_clients = {"finance": client_for(finance), "filer": client_for(filer), "anonymous": Client()}
    pages = {}
    for name, user in (("finance", finance), ("filer", filer)):
        pages[name] = Client(raise_request_exception=False)
        pages[name].force_login(user)
    pages["anonymous"] = Client(raise_request_exception=False)
    for client in api_clients.values():
        client.raise_request_exception = False

    targets = [(path, names, api_clients) for path, names in get_operations()]
    targets += [(path, names, pages) for path, names in PAGES.items()]
    assert len(targets) > 20  # the schema was read

    started = time.monotonic()
    errors = []
    for path, names, clients in targets:
        for who, client in clients.items():
            for name in names:
                for value in VALUES:
                    status = client.get(path, {name: value}).status_code
                    if status >= 500:
                        errors.append(f"{who} GET {path}?{name}={value[:25]!r} -> {status}")
    elapsed = time.monotonic() - started
    assert not errors, "\n".join(errors)
    print(f"query sweep: {len(targets)} targets in {elapsed:.0f} s")  # a figure, not an assertion (docs/performance.md)


def concrete_paths():
    """Every page and API route (the admin's left out) with its `<int:…>` parameters a 20-digit number
    and its `<str:…>` ones a 300-character code."""
    import re

    from tests.access_matrix.routes import walk

    for _, pattern in walk():
        if pattern.startswith(("admin/", "^")) or "(?P<" in pattern:
            continue
        path = re.sub(r"<int:\w+>", "9" * 20, pattern)
        path = re.sub(r"<(str|slug):\w+>", "x" * 300, path)
        path = re.sub(r"<path:\w+>", "x" * 300, path)
        if "<" not in path and path != pattern:
            yield "/" + path


def test_no_huge_path_parameter_is_a_server_error():
    bank = InstitutionFactory(code="SW-02", name="扫测银行二")
    finance = UserFactory(username="sweep-fc2", roles=["finance_center"], is_staff=True)
    filer = institution_user(bank, "institution_filer", username="sweep-filer2")
    clients = {"anonymous": Client(raise_request_exception=False)}
    for name, user in (("finance", finance), ("filer", filer)):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(user)
    paths = list(concrete_paths())
    assert len(paths) > 30
    errors = [f"{who} GET {path[:80]} -> {status}" for path in paths for who, client in clients.items()
              if (status := client.get(path).status_code) >= 500]
    assert not errors, "\n".join(errors)
