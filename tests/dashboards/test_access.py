"""Who sees what: a finance center its own districts only (404 for any other: dashboards, rows,
institutions, reports), heads never reach another institution's drill-down (404), city users see
aggregates only."""

import json

import pytest
from django.test import Client

from dashboards.models import AnnualReport
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


def test_finance_center_drills_into_its_own_districts_institutions_only(dataset):
    assert page(dataset.finance, "/dashboards/institutions/B/").status_code == 200
    assert client_for(dataset.finance).get("/api/v1/dashboards/institutions/D/items/").status_code == 200
    # E is Jiaojiang's: absent for Luqiao's finance center, present for Jiaojiang's.
    assert page(dataset.finance, "/dashboards/institutions/E/").status_code == 404
    for figure in INSTITUTION_ENDPOINTS:
        assert client_for(dataset.finance).get(f"/api/v1/dashboards/institutions/E/{figure}/").status_code == 404
    assert page(dataset.finance_jj, "/dashboards/institutions/E/").status_code == 200
    assert page(dataset.finance_jj, "/dashboards/institutions/A/").status_code == 404


@pytest.mark.parametrize("endpoint", [*DISTRICT_ENDPOINTS, "rows/items", "rows/ranking"])
def test_luqiao_finance_center_gets_404_for_jiaojiangs_dashboards(dataset, endpoint):
    path = f"/api/v1/dashboards/district/{endpoint}/"
    assert client_for(dataset.finance).get(path, {"district": "331002", "year": YEAR}).status_code == 404
    assert client_for(dataset.finance_jj).get(path, {"district": "331002", "year": YEAR}).status_code == 200
    assert client_for(dataset.finance_jj).get(path, {"district": "331004", "year": YEAR}).status_code == 404


def test_luqiao_finance_center_gets_404_for_jiaojiangs_pages(dataset):
    for path in ("/dashboards/district/?district=331002", "/dashboards/district/rows/ranking/?district=331002",
                 "/dashboards/district/rows/items/?district=331002&key=1"):
        assert page(dataset.finance, path).status_code == 404, path
    own = page(dataset.finance, f"/dashboards/district/?year={YEAR}").content.decode()
    assert "路桥区" in own and 'value="331002"' not in own  # no other district to choose
    both = page(dataset.finance_both, f"/dashboards/district/?year={YEAR}").content.decode()
    assert 'value="331002"' in both and 'value="331004"' in both


def test_luqiao_finance_center_gets_404_for_jiaojiangs_reports(dataset, settings, tmp_path,
                                                                django_capture_on_commit_callbacks):
    settings.DASHBOARDS_REPORTS_ROOT = tmp_path / "reports"
    with django_capture_on_commit_callbacks(execute=True):
        created = client_for(dataset.finance_jj).post("/api/v1/reports/", {"district": "331002", "year": YEAR},
                                                       format="json")
    assert created.status_code == 202, created.content
    theirs = created.json()["id"]
    api = client_for(dataset.finance)
    for path in (f"/api/v1/reports/{theirs}/", f"/api/v1/reports/{theirs}/pdf/", f"/api/v1/reports/{theirs}/xlsx/"):
        assert api.get(path).status_code == 404, path
    for path in (f"/dashboards/reports/{theirs}/", f"/dashboards/reports/{theirs}/pdf/"):
        assert page(dataset.finance, path).status_code == 404, path
    assert theirs not in [r["id"] for r in api.get("/api/v1/reports/").json()]
    assert "椒江区" not in page(dataset.finance, "/dashboards/reports/").content.decode()
    # Nor can it ask for one: another district is not found, and nothing is queued.
    assert api.post("/api/v1/reports/", {"district": "331002", "year": YEAR}, format="json").status_code == 404
    client = Client()
    client.force_login(dataset.finance)
    assert client.post("/dashboards/reports/", {"district": "331002", "year": YEAR}).status_code == 404
    assert AnnualReport.objects.count() == 1
    # The admin lists and offers Luqiao's only.
    assert client.get(f"/admin/dashboards/annualreport/{theirs}/change/").status_code == 404
    assert client.get(f"/admin/dashboards/annualreport/{theirs}/history/").status_code == 404
    assert client.post("/admin/dashboards/annualreport/add/",
                       {"district": dataset.jiaojiang.pk, "year": YEAR}).status_code == 200  # form error
    assert AnnualReport.objects.count() == 1


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
