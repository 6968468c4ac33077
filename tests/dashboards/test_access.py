"""Who sees what: heads never reach another institution's drill-down (404), city users see aggregates only."""

import json

import pytest
from django.test import Client

from tests.conftest import client_for

from .conftest import YEAR

pytestmark = pytest.mark.django_db

DISTRICT_ENDPOINTS = ["colours", "ranking", "distribution", "items", "trend", "complaints", "satisfaction",
                      "violations", "acknowledgements", "rows/colours"]
INSTITUTION_ENDPOINTS = ["history", "items", "complaints", "employees"]


def page(user, path):
    client = Client()
    client.force_login(user)
    return client.get(path)


@pytest.mark.parametrize("figure", INSTITUTION_ENDPOINTS)
def test_head_reaches_own_institution_but_not_another(dataset, figure):
    api = client_for(dataset.head_a)
    assert api.get(f"/api/v1/dashboards/institutions/A/{figure}/", {"year": YEAR}).status_code == 200
    for code in ("B", "E", "NO-SUCH-CODE"):
        response = api.get(f"/api/v1/dashboards/institutions/{code}/{figure}/", {"year": YEAR})
        assert response.status_code == 404, (code, response.status_code)


def test_head_pages_other_institution_404_and_district_403(dataset):
    assert page(dataset.head_a, "/dashboards/institutions/A/").status_code == 200
    assert page(dataset.head_a, "/dashboards/institutions/B/").status_code == 404
    assert page(dataset.head_a, "/dashboards/institutions/NOPE/").status_code == 404
    assert page(dataset.head_a, "/dashboards/district/").status_code == 403
    assert page(dataset.head_a, "/dashboards/district/rows/ranking/").status_code == 403
    assert page(dataset.head_a, "/dashboards/").url == "/dashboards/institutions/A/"


@pytest.mark.parametrize("endpoint", DISTRICT_ENDPOINTS)
def test_district_endpoints_are_for_the_finance_center(dataset, endpoint):
    path = f"/api/v1/dashboards/district/{endpoint}/"
    assert client_for(dataset.finance).get(path, {"year": YEAR}).status_code == 200
    for user in (dataset.head_a, dataset.city_user, dataset.filer_a):
        assert client_for(user).get(path, {"year": YEAR}).status_code == 403


def test_users_without_a_dashboard_role_get_403_whatever_the_code(dataset):
    api = client_for(dataset.filer_a)
    assert api.get("/api/v1/dashboards/institutions/A/history/").status_code == 403
    assert api.get("/api/v1/dashboards/institutions/B/history/").status_code == 403
    assert client_for(dataset.city_user).get("/api/v1/dashboards/institutions/A/history/").status_code == 403
    assert client_for(dataset.filer_a).get("/api/v1/dashboards/city/league/").status_code == 403
    assert page(dataset.filer_a, "/dashboards/").status_code == 403


def test_anonymous_is_refused(dataset):
    assert Client().get("/api/v1/dashboards/district/colours/").status_code in (401, 403)
    assert Client().get("/dashboards/district/").status_code == 302


def test_finance_center_drills_into_any_institution(dataset):
    assert page(dataset.finance, "/dashboards/institutions/B/").status_code == 200
    assert page(dataset.finance, "/dashboards/institutions/E/").status_code == 200
    assert client_for(dataset.finance).get("/api/v1/dashboards/institutions/D/items/").status_code == 200


def test_city_users_see_district_aggregates_and_no_personal_data(dataset):
    league = client_for(dataset.city_user).get("/api/v1/dashboards/city/league/", {"year": YEAR})
    trend = client_for(dataset.city_user).get("/api/v1/dashboards/city/trend/", {"year": YEAR})
    html = page(dataset.city_user, f"/dashboards/city/?year={YEAR}")
    assert league.status_code == trend.status_code == html.status_code == 200
    text = json.dumps(league.json(), ensure_ascii=False) + json.dumps(trend.json(), ensure_ascii=False)
    text += html.content.decode()
    assert "路桥区" in text and "椒江区" in text
    # No institution, no employee, no complainant, no warning text: only districts' aggregates.
    for secret in ("甲演示银行", "乙演示银行", "椒江演示银行", "甲一", "乙一", "黄小明", "测试反映", "receipt",
                   "contact", "description", "staff_name"):
        assert secret not in text, secret
    assert not {"institution", "institutions_list", "employees"} & set(league.json()["districts"][0])


def test_reports_are_for_the_finance_center(dataset):
    assert client_for(dataset.head_a).get("/api/v1/reports/").status_code == 403
    assert client_for(dataset.city_user).post("/api/v1/reports/", {"year": YEAR}).status_code == 403
    assert page(dataset.head_a, "/dashboards/reports/").status_code == 403
