"""The list endpoints cost a bounded number of queries, however many institutions there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring import services
from scoring.models import AggregationRun
from tests.conftest import client_for
from tests.factories import InstitutionFactory
from tests.scoring.factories import luqiao

from .factories import WORKED_SHEETS, assessment_for, fill_sheet

pytestmark = pytest.mark.django_db

# Auth/roles/district grants, count, page, plus one or two per endpoint for related data: never one per row.
MAX_SCORE_LIST_QUERIES = 7
MAX_ASSESSMENT_LIST_QUERIES = 8


def populate(scheme, n: int, start: int = 0) -> None:
    categories = ["bank", "insurance", "securities", "private_lending", "other"]
    for i in range(start, start + n):
        institution = InstitutionFactory(code=f"Q{i:03d}", category=categories[i % len(categories)])
        assessment = assessment_for(institution, scheme)
        for source, values in WORKED_SHEETS.items():
            if source == "third_party" and i % 4 == 0:
                continue
            fill_sheet(assessment, source, values, submit=i % 7 != 0)
    services.execute_run(AggregationRun.objects.create(year=scheme.year, district=luqiao()).pk)


def fresh_client(user):
    """A client for a freshly loaded user: nothing (roles, institutions) cached from earlier requests."""
    return client_for(type(user).objects.get(pk=user.pk))


def count_queries(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        resp = client.get(url)
    assert resp.status_code == 200, resp.content
    return len(captured), resp.json()


def _published(scheme, finance):
    """API clients read published years only: publish the district's year (and keep it open for more data)."""
    year = services.district_year(luqiao(), scheme.year)
    services.publish_year(services.open_notice(year, finance), finance)


def _reopened(scheme, finance):
    services.reopen_year(services.district_year(luqiao(), scheme.year), finance, "测试：加入更多机构")


@pytest.mark.parametrize("role", ["finance_center", "api_client"])
def test_score_list_queries_are_bounded(scheme, finance, api_client_user, django_assert_max_num_queries, role):
    user = finance if role == "finance_center" else api_client_user
    populate(scheme, 3)
    url = f"/api/v1/scores/?year={scheme.year}&page_size=100"
    if role == "api_client":
        _published(scheme, finance)
    client = fresh_client(user)
    few, body = count_queries(client, url)
    assert body["count"] == 2  # Q000 submitted nothing: no result
    if role == "api_client":
        _reopened(scheme, finance)
    populate(scheme, 27, start=3)
    if role == "api_client":
        _published(scheme, finance)
    client = fresh_client(user)
    with django_assert_max_num_queries(MAX_SCORE_LIST_QUERIES):
        body = client.get(url).json()
    assert body["count"] == 25  # 30 institutions, 5 of which submitted nothing
    many, _ = count_queries(fresh_client(user), url)
    assert many == few, "the number of queries must not grow with the number of rows"


def test_assessment_list_queries_are_bounded(scheme, finance, django_assert_max_num_queries):
    populate(scheme, 3)
    url = f"/api/v1/assessments/?year={scheme.year}&page_size=100"
    few, body = count_queries(fresh_client(finance), url)
    assert body["count"] == 3
    populate(scheme, 27, start=3)
    with django_assert_max_num_queries(MAX_ASSESSMENT_LIST_QUERIES):
        body = fresh_client(finance).get(url).json()
    assert body["count"] == 30
    first = body["results"][0]
    assert first["indicators_total"] == 6 and {s["source"] for s in first["sheets"]} == {"self", "inspection"}
    assert {s["filled"] for s in first["sheets"]} == {6}
    many, _ = count_queries(fresh_client(finance), url)
    assert many == few


def test_assessment_detail_queries_do_not_grow_with_entries(scheme, finance, django_assert_max_num_queries):
    populate(scheme, 2)
    Institution = InstitutionFactory._meta.model
    fewer = assessment_for(Institution.objects.get(code="Q000"), scheme)  # 2 draft sheets, 12 entries
    filled = assessment_for(Institution.objects.get(code="Q001"), scheme)  # 3 sheets, 16 entries
    baseline, body = count_queries(fresh_client(finance), f"/api/v1/assessments/{fewer.pk}/")
    assert sum(len(by_source) for by_source in body["entries"].values()) == 12
    with django_assert_max_num_queries(12):  # roles, grants, stages (district year), sheets, entries
        body = fresh_client(finance).get(f"/api/v1/assessments/{filled.pk}/").json()
    assert body["entries"]["B1"]["third_party"]["points"] == "38"
    assert sum(len(by_source) for by_source in body["entries"].values()) == 16
    assert count_queries(fresh_client(finance), f"/api/v1/assessments/{filled.pk}/")[0] == baseline
