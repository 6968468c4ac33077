"""Issue #11, item 1: every bad input is a 4xx with a readable message (JSON under /api/, a Chinese page
otherwise), never a 500. The URLs are the ones the probe found answering 500."""

import json

import pytest
from django.test import Client

from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_axes(settings):
    # Not about logins: force_login's request has no address for django-axes to record.
    settings.AXES_ENABLED = False


@pytest.fixture
def fc(db):
    return UserFactory(username="fc", roles=["finance_center"], is_staff=True)


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="NUL-01", name="测试银行")


@pytest.fixture
def page_client(fc):
    client = Client(raise_request_exception=False)
    client.force_login(fc)
    return client


def assert_json_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "控制字符" in response.json()["detail"]


def assert_page_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert "控制字符" in response.content.decode()


# --- NUL in a path segment -------------------------------------------------------------------------

def test_nul_in_public_form_code(bank):
    assert_page_400(Client(raise_request_exception=False).get(f"/q/{bank.public_code}%00/"))


def test_nul_in_api_score_code(fc):
    assert_json_400(client_for(fc).get("/api/v1/scores/2026/%00/"))


@pytest.mark.parametrize("path", ["/dashboards/institutions/%00/", "/complaints/posters/%00/"])
def test_nul_in_page_path(page_client, path):
    assert_page_400(page_client.get(path))


def test_nul_in_api_dashboard_institution_path(fc):
    assert_json_400(client_for(fc).get("/api/v1/dashboards/institutions/%00/history/"))


# --- NUL in a query parameter (keys and values) ----------------------------------------------------

@pytest.mark.parametrize("endpoint", ["colours", "ranking", "distribution", "items", "trend", "complaints",
                                      "satisfaction"])
def test_nul_district_on_dashboard_api(fc, endpoint):
    assert_json_400(client_for(fc).get(f"/api/v1/dashboards/district/{endpoint}/", {"district": "\x00"}))


@pytest.mark.parametrize("param", ["institution", "status", "kind", "q"])
def test_nul_in_complaints_queue_filters(page_client, param):
    assert_page_400(page_client.get("/complaints/", {param: "a\x00b"}))


def test_nul_category_on_statistics(page_client):
    assert_page_400(page_client.get("/complaints/stats/", {"category": "\x00"}))


def test_nul_in_a_query_key(fc):
    assert_json_400(client_for(fc).get("/api/v1/scores/?a%00b=1"))


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\t", "\n"])
def test_other_control_characters_in_a_query_value(fc, char):
    assert_json_400(client_for(fc).get("/api/v1/scores/", {"q": f"x{char}y"}))


# --- form fields -------------------------------------------------------------------------------------

def test_nul_in_a_form_field(page_client):
    assert_page_400(page_client.post("/complaints/", {"note": "a\x00b"}))


def test_line_breaks_and_tabs_in_a_form_field_pass_the_guard(bank):
    response = Client(raise_request_exception=False).post(
        f"/q/{bank.public_code}/", {"kind": "report", "description": "第一行\r\n第二行\t制表"})
    assert response.status_code != 400 or "控制字符" not in response.content.decode()


def test_nul_in_a_multipart_form_field(bank):
    response = Client(raise_request_exception=False).post(
        f"/q/{bank.public_code}/", {"kind": "report", "description": "a\x00b"})
    assert_page_400(response)


def test_nul_in_an_api_form_body(bank):
    response = Client(raise_request_exception=False).post(
        "/api/v1/public/complaints/", "public_code=x&description=a%00b",
        content_type="application/x-www-form-urlencoded")
    assert_json_400(response)


def test_clean_requests_pass(fc, page_client):
    assert client_for(fc).get("/api/v1/scores/", {"q": "正常"}).status_code == 200
    assert page_client.get("/complaints/", {"q": "正常"}).status_code == 200


# --- JSON bodies of the wrong shape ------------------------------------------------------------------

PUBLIC = "/api/v1/public/complaints/"


@pytest.mark.parametrize("body", ["[]", '[{"public_code": "x"}]', '"text"', "null", "42", "true"])
def test_public_complaints_api_refuses_a_body_that_is_not_an_object(api, bank, body):
    response = api.post(PUBLIC, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "JSON 对象" in response.json()["detail"]


def test_public_complaints_api_refuses_deep_nesting(api, bank):
    body = "[" * 50_000 + "]" * 50_000
    response = api.post(PUBLIC, '{"a": ' + body + "}", content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "嵌套" in response.json()["detail"]


def test_malformed_json_is_a_readable_400(api, bank):
    response = api.post(PUBLIC, '{"public_code": ', content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("body", ["[]", "null", '"x"'])
def test_other_json_apis_refuse_a_body_that_is_not_an_object(fc, body):
    response = client_for(fc).post("/api/v1/warnings/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "JSON 对象" in response.json()["detail"]


def test_a_json_body_over_the_upload_limit_is_a_json_413(api, bank, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
    body = json.dumps({"public_code": bank.public_code, "description": "a" * (13 * 1024 * 1024)})
    response = api.post(PUBLIC, body, content_type="application/json")
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_form_body_over_the_upload_limit_is_a_json_413_on_the_api(fc, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client_for(fc).post("/api/v1/warnings/", "title=" + "a" * 4096,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413, response.content[:300]
    assert response.json()["detail"]


# --- bounded years -------------------------------------------------------------------------------------

BAD_YEARS = ["0", "-1", "99999999999999999999", "1999", "2101", "２０２６", "20x6"]
OUT_OF_RANGE = ["0", "-1", "99999999999999999999", "1999", "2101"]


def test_parse_year():
    from core.errors import DomainError
    from core.years import parse_year

    assert parse_year("2026") == 2026
    assert parse_year(" 2000 ") == 2000
    assert parse_year("", 2030) == 2030
    assert parse_year(None) is None
    for raw in BAD_YEARS:
        with pytest.raises(DomainError) as caught:
            parse_year(raw)
        assert caught.value.field == "year"


@pytest.mark.parametrize("year", OUT_OF_RANGE)
@pytest.mark.parametrize("path", [
    "/api/v1/complaints/stats/",
    "/api/v1/warnings/rates/",
    "/api/v1/scores/export/",
    "/api/v1/dashboards/district/ranking/",
    "/api/v1/scores/",
    "/api/v1/assessments/",
])
def test_out_of_range_years_are_a_400_on_the_api(fc, path, year):
    response = client_for(fc).get(path, {"year": year})
    assert response.status_code == 400, (path, year, response.status_code, response.content[:300])
    assert "year" in response.json()
    assert "2000" in str(response.json()["year"])  # the one reading of a year, in Chinese


@pytest.mark.parametrize("year", ["0", "-1", "99999999999999999999"])
@pytest.mark.parametrize("path", ["/complaints/stats/", "/dashboards/district/"])
def test_out_of_range_years_are_a_4xx_on_pages(page_client, path, year):
    response = page_client.get(path, {"year": year})
    assert 400 <= response.status_code < 500, (path, year, response.status_code)


@pytest.mark.parametrize("year", ["0", "-1", "99999999999999999999"])
def test_out_of_range_years_are_a_400_on_staff_points(bank, year):
    from tests.factories import institution_user

    client = Client(raise_request_exception=False)
    client.force_login(institution_user(bank, "institution_filer", username="filer-y"))
    response = client.get("/points/staff/", {"year": year})
    assert response.status_code == 400, response.status_code
    assert "年度" in response.content.decode()



# --- ragged CSV files ------------------------------------------------------------------------------------

RAGGED_SHEET = "indicator_code,value,note\nB1,5,\nB2,3,说明,多出来的一列\nB3\nB4,2,,,\n".encode()


def test_a_ragged_sheet_csv_is_a_row_error_with_its_line():
    from core.tabular import TabularError
    from scoring import sheet_files

    with pytest.raises(TabularError) as caught:
        sheet_files.read_filled(RAGGED_SHEET, "sheet.csv")
    message = str(caught.value)
    assert "第 3 行" in message and "4 列" in message
    assert "第 4 行" not in message and "第 5 行" not in message  # short rows are padded, empty extras ignored


def test_short_rows_and_trailing_commas_still_read():
    from scoring import sheet_files

    rows = sheet_files.read_filled(b"indicator_code,value,note\nB1,5\nB2,3,,,\n", "sheet.csv")
    assert [(line, code, value) for line, code, value, _ in rows] == [(2, "B1", "5"), (3, "B2", "3")]


def test_import_institutions_reports_a_ragged_csv_without_a_traceback(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "inst.csv"
    path.write_text("code,name,category\nR1,甲银行,bank\nR2,乙银行,bank,多余,列\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("import_institutions", str(path))
    assert "第 3 行" in str(caught.value)


@pytest.mark.parametrize("year", ["0", "-1", "99999999999999999999"])
def test_out_of_range_years_are_a_400_when_requesting_a_report(page_client, year):
    from dashboards.models import AnnualReport

    response = page_client.post("/dashboards/reports/", {"district": "331004", "year": year})
    assert response.status_code == 400, response.status_code
    assert "年度" in response.content.decode()
    assert not AnnualReport.objects.exists()
