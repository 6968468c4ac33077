import pytest

from institutions.models import Institution
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(api):
    assert api.get("/api/v1/institutions/").status_code == 401


def test_token_then_list_banks_paginated(api, two_institutions):
    UserFactory(username="client", roles=["api_client"])
    resp = api.post("/api/v1/auth/token/", {"username": "client", "password": "Pass-word-123"}, format="json")
    assert resp.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {resp.json()['token']}")
    body = api.get("/api/v1/institutions/?category=bank").json()
    assert set(body) >= {"count", "next", "previous", "results"}
    assert body["count"] == 1
    item = body["results"][0]
    assert item["code"] == "A001" and item["category"] == "bank" and item["district"] == "331004"
    assert set(item) >= {"id", "code", "name", "short_name", "category", "usc_code", "district",
                         "is_local_corporate", "is_active"}


def test_wrong_password_gives_readable_400(api, db):
    UserFactory(username="client")
    resp = api.post("/api/v1/auth/token/", {"username": "client", "password": "nope"}, format="json")
    assert resp.status_code == 400 and resp.json()


def test_filters_search_and_page_size(finance_user):
    for i in range(12):
        InstitutionFactory(code=f"S{i:03d}", category="securities" if i % 3 == 0 else "bank",
                           name=f"证券营业部{i}" if i % 3 == 0 else f"银行{i}")
    client = client_for(finance_user)
    body = client.get("/api/v1/institutions/?category=securities").json()
    assert body["count"] == 4 and {r["category"] for r in body["results"]} == {"securities"}
    assert client.get("/api/v1/institutions/?search=营业部").json()["count"] == 4
    assert client.get("/api/v1/institutions/?search=S003").json()["results"][0]["code"] == "S003"
    assert client.get("/api/v1/institutions/?district=331004").json()["count"] == 12
    assert client.get("/api/v1/institutions/?district=331002").status_code == 404  # not granted (API.md)
    page = client.get("/api/v1/institutions/?page_size=5&page=2").json()
    assert len(page["results"]) == 5 and page["previous"] and page["next"]
    assert client.get("/api/v1/institutions/?page_size=100000").status_code == 200
    assert client.get("/api/v1/institutions/?page=99").status_code == 404
    assert client.get("/api/v1/institutions/?category=casino").status_code == 400


def test_page_size_is_capped_at_500(finance_user):
    Institution.objects.bulk_create([
        InstitutionFactory.build(code=f"C{i:04d}", usc_code=InstitutionFactory.build().usc_code)
        for i in range(510)
    ])
    body = client_for(finance_user).get("/api/v1/institutions/?page_size=1000").json()
    assert body["count"] == 510 and len(body["results"]) == 500


def test_institution_user_sees_only_own(two_institutions, filer_a):
    client = client_for(filer_a)
    body = client.get("/api/v1/institutions/").json()
    assert [r["code"] for r in body["results"]] == ["A001"]
    assert client.get("/api/v1/institutions/A001/").status_code == 200
    other = client.get("/api/v1/institutions/B001/")
    missing = client.get("/api/v1/institutions/NOPE/")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()  # nothing tells whether B001 exists


def test_me(two_institutions, filer_a, finance_user):
    me = client_for(filer_a).get("/api/v1/me/").json()
    assert me["username"] == "filer_a" and "institution_filer" in me["roles"]
    assert me["institution"] == {"code": "A001", "name": "甲银行"}
    me = client_for(finance_user).get("/api/v1/me/").json()
    assert me["roles"] == ["finance_center"] and me["institution"] is None


def test_list_query_count_is_bounded(finance_user, django_assert_max_num_queries):
    for _ in range(30):
        InstitutionFactory()
    client = client_for(finance_user)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/institutions/?page_size=30").status_code == 200


def test_list_query_count_is_bounded_for_institution_user(two_institutions, django_assert_max_num_queries):
    user = institution_user(two_institutions[0], "institution_head")
    client = client_for(user)
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/institutions/").status_code == 200


def test_schema_and_docs_served_without_cdn(api, finance_user):
    api.force_authenticate(finance_user)
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3")
    assert "/api/v1/institutions/" in schema.json()["paths"]
    docs = api.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "jsdelivr" not in docs and "unpkg" not in docs and "https://" not in docs

