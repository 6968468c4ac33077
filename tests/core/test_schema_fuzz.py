"""Issue #11, item 1: a schema-driven fuzz run. schemathesis reads the portal's own OpenAPI schema
(the one `/api/schema/` serves) and generates requests for every operation, valid ones and
deliberately invalid ones (wrong types, missing fields, out-of-range values, odd strings), sent as
the finance center, an institution's filer and an anonymous visitor. Any 5xx (or an exception out of
a view) fails the run, listing each operation with the case that broke it.

Bounded: FUZZ_EXAMPLES examples per operation, mode and caller (default 4) and FUZZ_BUDGET_SECONDS
in all (default 150); derandomized, so a failure is reproduced by the next run. Run it longer with
e.g. `FUZZ_EXAMPLES=50 FUZZ_BUDGET_SECONDS=1200 make test PYTEST_ARGS=tests/core/test_schema_fuzz.py`.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlencode

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode

from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
BUDGET_SECONDS = float(os.environ.get("FUZZ_BUDGET_SECONDS", "150"))
# Known objects, so that a share of the cases reach past the 404 of a random id.
KNOWN = {"year": 2026, "code": "FZ-01", "institution_code": "FZ-01", "district": "331004"}


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.AXES_ENABLED = False
    settings.PUBLIC_READ_RATE = ""
    settings.COMPLAINTS_RATE_SUBMIT_IP = ""
    settings.COMPLAINTS_RATE_SUBMIT_CODE = ""
    settings.COMPLAINTS_RATE_TRACK_IP = ""


def _schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    # Round-trip through JSON: lazy translations and Decimal defaults become plain values, as served.
    raw = json.loads(json.dumps(raw, default=str))
    return schemathesis.openapi.from_dict(raw)


def _body_kwargs(case) -> dict:
    """Django test client arguments for the case's body, by its media type."""
    media = (case.media_type or "").split(";")[0]
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        return {}
    if media == "multipart/form-data":
        data = {}
        for key, value in (body.items() if isinstance(body, dict) else []):
            if isinstance(value, (bytes, bytearray)):
                value = SimpleUploadedFile(f"{key}.bin", bytes(value))
            elif isinstance(value, (dict, list)):
                value = json.dumps(value)
            elif value is None:
                value = ""
            data[str(key)] = value
        return {"data": data}  # the client encodes it as multipart
    if media == "application/x-www-form-urlencoded":
        data = body if isinstance(body, dict) else {}
        return {"data": urlencode({str(k): "" if v is None else v for k, v in data.items()}, doseq=True),
                "content_type": media}
    if isinstance(body, (bytes, bytearray)):
        return {"data": bytes(body), "content_type": media or "application/octet-stream"}
    return {"data": json.dumps(body, default=str), "content_type": "application/json"}


def _send(client: Client, case):
    path = case.formatted_path
    query = {k: ("" if v is None else v) for k, v in (case.query or {}).items()}
    if query:
        path += "?" + urlencode(query, doseq=True)
    headers = {k: v for k, v in (case.headers or {}).items()
               if k.lower() not in ("authorization", "cookie", "content-type", "content-length", "host")}
    kwargs = _body_kwargs(case)
    method = case.method.upper()
    if method == "POST" and "data" in kwargs and "content_type" not in kwargs:
        return client.post(path, kwargs["data"], headers=headers)
    return client.generic(method, path, kwargs.get("data", ""), kwargs.get("content_type", "application/octet-stream"),
                          headers=headers)


def _runner(strategy, who, client, failures, counter, statuses):
    """One hypothesis run of `strategy`: every case sent, every 5xx recorded (no shrinking: the case
    as generated is the report)."""

    @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = _send(client, case)
        counter[0] += 1
        statuses[(who, response.status_code // 100)] = statuses.get((who, response.status_code // 100), 0) + 1
        if response.status_code >= 500:
            failures.append(f"{who} {case.method} {case.formatted_path} query={case.query!r} "
                            f"body={str(case.body)[:200]!r} -> {response.status_code}")

    return run


def test_no_generated_api_request_is_a_server_error():
    bank = InstitutionFactory(code="FZ-01", name="模糊测试银行")
    finance = UserFactory(username="fuzz-fc", roles=["finance_center"], is_staff=True)
    filer = institution_user(bank, "institution_filer", username="fuzz-filer")
    callers = {}
    for name, user in (("finance", finance), ("filer", filer), ("anonymous", None)):
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        callers[name] = client

    schema = _schema()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema was read"

    started = time.monotonic()
    failures: list[str] = []
    counter = [0]
    statuses: dict[tuple[str, int], int] = {}
    timed_out = False

    for operation in operations:
        known = {p.name: KNOWN[p.name] for p in operation.path_parameters if p.name in KNOWN}
        strategies = [operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE)]
        if known:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
        for who, client in callers.items():
            for strategy in strategies:
                if time.monotonic() - started > BUDGET_SECONDS:
                    timed_out = True
                    break

                run = _runner(strategy, who, client, failures, counter, statuses)
                try:
                    run()
                except Exception as exc:  # a strategy that cannot generate (unsatisfiable schema) is not a 5xx
                    if "Unsatisfiable" not in type(exc).__name__ and "unsatisfiable" not in str(exc).lower():
                        failures.append(f"{who} {operation.method.upper()} {operation.path}: {type(exc).__name__}: "
                                        f"{str(exc)[:300]}")

    sent = counter[0]
    assert not failures, f"{len(failures)} server errors out of {sent} requests:\n" + "\n".join(failures[:40])
    assert sent > 3 * len(operations), f"only {sent} requests were sent"
    # The signed-in callers got past authentication (2xx answers), and bad input was refused (4xx).
    assert statuses.get(("finance", 2), 0) > 20 and statuses.get(("filer", 2), 0) > 5, statuses
    assert statuses.get(("finance", 4), 0) > 100, statuses
    took = time.monotonic() - started
    print(f"schema fuzz: {sent} requests over {len(operations)} operations in {took:.0f} s, {statuses}"
          + (f" (budget of {BUDGET_SECONDS:.0f} s reached)" if timed_out else ""))
