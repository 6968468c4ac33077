"""Lists of every institution are paginated (issue 16: /warnings/manage/ 1.9 s and 1.8 MB,
/api/v1/warnings/rates/ 1.2 s and 1 MB, /scoring/years/<year>/ 1.5 s, all unpaginated)."""

import pytest

from tests.conftest import client_for
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory
from tests.warnings_feed.conftest import draft
from warnings_feed import services as warning_services


@pytest.fixture
def province(db, django_capture_on_commit_callbacks):
    """105 institutions of 路桥 with an employee each, and a district-wide warning delivered to all."""
    banks = [InstitutionFactory(code=f"P{i:04d}", name=f"分页银行{i:04d}") for i in range(105)]
    for bank in banks:
        EmployeeFactory(institution=bank)
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        warning_services.publish(finance, draft())
    return finance, banks


def test_rates_api_is_paginated_like_every_list(province):
    finance, _banks = province
    api = client_for(finance)
    first = api.get("/api/v1/warnings/rates/").json()
    assert first["count"] == 105
    assert len(first["results"]) == 50 and first["institutions"] == first["results"]
    assert first["previous"] is None and "page=2" in first["next"]
    assert first["results"][0]["institution_code"] == "P0000"
    last = api.get("/api/v1/warnings/rates/", {"page": 3}).json()
    assert [r["institution_code"] for r in last["results"]] == ["P0100", "P0101", "P0102", "P0103", "P0104"]
    assert last["results"][0]["delivered"] == 1
    everything = api.get("/api/v1/warnings/rates/", {"page_size": 500}).json()
    assert len(everything["results"]) == 105 and everything["next"] is None
    assert api.get("/api/v1/warnings/rates/", {"page": 9}).status_code == 404


def test_manage_page_shows_institution_rates_a_page_at_a_time(client, province, django_assert_max_num_queries):
    finance, _banks = province
    client.force_login(finance)
    def row(name):  # a row of the rates table (the publish form lists institutions too)
        return f'<td class="wf-cell-title">{name}</td>'

    with django_assert_max_num_queries(40):
        page = client.get("/warnings/manage/").content.decode()
    assert row("分页银行0000") in page and row("分页银行0099") in page and row("分页银行0100") not in page
    assert "rpage=2" in page
    # counted as institutions with a delivery (EXISTS), not as a COUNT over the grouped tallies
    response = client.get("/warnings/manage/")
    assert response.context["institution_rates_page"].paginator.count == 105
    second = client.get("/warnings/manage/", {"rpage": 2}).content.decode()
    assert row("分页银行0104") in second and row("分页银行0000") not in second
    # A page number out of range shows the last page, never an error.
    assert row("分页银行0104") in client.get("/warnings/manage/", {"rpage": "99"}).content.decode()
    assert client.get("/warnings/manage/", {"rpage": "x"}).status_code == 200


@pytest.mark.django_db
def test_year_overview_is_paginated(client, django_assert_max_num_queries):
    from scoring.models import Assessment
    from tests.scoring.factories import assessment_for, build_scheme

    scheme = build_scheme(2026)
    for i in range(105):
        assessment_for(InstitutionFactory(code=f"Y{i:04d}", name=f"年度银行{i:04d}"), scheme,
                       Assessment.State.NOT_STARTED)
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    client.force_login(finance)
    with django_assert_max_num_queries(40):
        response = client.get("/scoring/years/2026/", {"district": "331004"})
    page = response.content.decode()
    assert len(response.context["rows"]) == 100
    assert "年度银行0000" in page and "年度银行0099" in page and "年度银行0100" not in page
    assert "page=2" in page and "district=331004" in page
    second = client.get("/scoring/years/2026/", {"district": "331004", "page": 2})
    assert [r["assessment"].institution.code for r in second.context["rows"]] == [
        "Y0100", "Y0101", "Y0102", "Y0103", "Y0104"]
    assert client.get("/scoring/years/2026/", {"page": "abc"}).status_code == 200
