"""The registry's admin across institutions and districts (issue #10): imports limited to what the
user may change and behind an explicit permission, the employee-login link kept from filers, list
filters that name only the user's own rows, and district grants managed by the administrator."""

import io

import pytest

from institutions.models import District, DistrictGrant, Employee, Institution
from institutions.usc import make_usc_code
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db

HEADER = "code,name,short_name,category,usc_code,district_code,is_local_corporate\n"


@pytest.fixture
def banks(db):
    lq = InstitutionFactory(code="LQ1", name="路桥甲银行")
    lq2 = InstitutionFactory(code="LQ2", name="路桥乙银行")
    jj = InstitutionFactory(code="JJ1", name="椒江丙银行", district=District.objects.get(code="331002"))
    return lq, lq2, jj


def import_preview(client, rows: str):
    return client.post("/admin/institutions/institution/import/", {
        "import_file": io.BytesIO((HEADER + rows).encode()), "format": "1", "resource": "0"})


def test_a_filer_may_not_import_institutions_at_all(client, banks):
    lq, lq2, _jj = banks
    filer = institution_user(lq, "institution_filer", is_staff=True)
    client.force_login(filer)
    resp = import_preview(client, f"LQ2,改名的银行,,bank,{lq2.usc_code},331004,0\n")
    assert resp.status_code == 403
    assert Institution.objects.get(code="LQ2").name == "路桥乙银行"


def test_a_finance_center_imports_only_into_its_own_district(client, banks):
    _lq, _lq2, jj = banks
    client.force_login(UserFactory(username="fc_lq", roles=["finance_center"], is_staff=True))
    page = import_preview(client, f"JJ1,改名的银行,,bank,{jj.usc_code},331002,0\n").content.decode()
    assert "无权修改机构 JJ1" in page
    new_usc = make_usc_code("91331002MA0099999")
    page = import_preview(client, f"NEW1,新银行,,bank,{new_usc},331002,0\n").content.decode()
    assert "无权在区县 331002 登记机构" in page
    assert Institution.objects.get(code="JJ1").name == "椒江丙银行"
    assert not Institution.objects.filter(code="NEW1").exists()


def test_a_filer_cannot_link_an_employee_to_another_login(client, banks):
    lq, lq2, _jj = banks
    filer = institution_user(lq, "institution_filer", is_staff=True)
    other_head = institution_user(lq2, "institution_head", username="head_lq2")
    employee = EmployeeFactory(institution=lq, name="柜员甲")
    client.force_login(filer)
    page = client.get(f"/admin/institutions/employee/{employee.pk}/change/").content.decode()
    assert 'name="user"' not in page
    client.post(f"/admin/institutions/employee/{employee.pk}/change/", {
        "institution": lq.pk, "name": "柜员甲", "employee_no": employee.employee_no, "is_active": "on",
        "user": other_head.pk})
    assert Employee.objects.get(pk=employee.pk).user is None


def test_list_filters_name_only_the_users_own_institutions(client, banks):
    lq, _lq2, _jj = banks
    EmployeeFactory(institution=lq)
    filer = institution_user(lq, "institution_filer", is_staff=True)
    client.force_login(filer)
    page = client.get("/admin/institutions/employee/").content.decode()
    assert "路桥甲银行" in page and "路桥乙银行" not in page and "椒江丙银行" not in page


def test_a_district_finance_center_sees_its_district_only(client, banks):
    _lq, _lq2, jj = banks
    client.force_login(UserFactory(username="fc_lq", roles=["finance_center"], is_staff=True))
    page = client.get("/admin/institutions/institution/").content.decode()
    assert "路桥甲银行" in page and "椒江丙银行" not in page
    assert client.get(f"/admin/institutions/institution/{jj.pk}/change/").status_code == 404
    resp = client.post(f"/admin/institutions/institution/{jj.pk}/change/", {"name": "改"})
    assert resp.status_code == 404 and Institution.objects.get(pk=jj.pk).name == "椒江丙银行"


def test_only_the_administrator_manages_district_grants(client, admin_user):
    finance = UserFactory(username="fc_lq", roles=["finance_center"], is_staff=True)
    client.force_login(finance)
    assert client.get("/admin/institutions/districtgrant/").status_code == 403
    client.force_login(admin_user)
    target = UserFactory(username="new_officer", is_staff=True)
    jj = District.objects.get(code="331002")
    resp = client.post("/admin/institutions/districtgrant/add/", {"user": target.pk, "role": "finance_center",
                                                                  "district": jj.pk})
    assert resp.status_code == 302
    assert DistrictGrant.objects.filter(user=target, role="finance_center", district=jj).exists()
    assert target.groups.filter(name="finance_center").exists()
    # A city role must go to a city, a district role to a county-level district.
    resp = client.post("/admin/institutions/districtgrant/add/", {"user": target.pk, "role": "city",
                                                                  "district": jj.pk})
    assert resp.status_code == 200 and "市级用户须授权到市" in resp.content.decode()


def test_home_page_names_the_users_districts(client, banks):
    lq, _lq2, _jj = banks
    client.force_login(UserFactory(username="fc_home", roles=["finance_center"], roles__districts=["331004", "331002"]))
    page = client.get("/").content.decode()
    assert "负责区县" in page and "椒江区" in page and "路桥区" in page
    client.force_login(institution_user(lq, "institution_filer", username="filer_home"))
    page = client.get("/").content.decode()
    assert "路桥甲银行" in page and "路桥区" in page and "负责区县" not in page
