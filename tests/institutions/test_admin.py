import pytest

from institutions.models import Employee
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_admin_speaks_chinese(client, finance_user):
    client.force_login(finance_user)
    page = client.get("/admin/").content.decode()
    assert "清廉金融管理平台" in page and "金融机构" in page


def test_finance_center_sees_all_institutions(client, finance_user, two_institutions):
    client.force_login(finance_user)
    page = client.get("/admin/institutions/institution/").content.decode()
    assert "甲银行" in page and "乙保险" in page


def test_filer_sees_own_institution_only(client, filer_a, two_institutions):
    a, b = two_institutions
    client.force_login(filer_a)
    page = client.get("/admin/institutions/institution/").content.decode()
    assert "甲银行" in page and "乙保险" not in page
    assert client.get(f"/admin/institutions/institution/{a.pk}/change/").status_code == 200
    assert client.get(f"/admin/institutions/institution/{b.pk}/change/").status_code == 404
    assert client.get(f"/admin/institutions/institution/{b.pk}/history/").status_code == 404


def test_filer_cannot_reach_other_institutions_employees(client, filer_a, two_institutions):
    a, b = two_institutions
    mine = EmployeeFactory(institution=a, name="我的员工")
    theirs = EmployeeFactory(institution=b, name="别人的员工")
    client.force_login(filer_a)
    page = client.get("/admin/institutions/employee/").content.decode()
    assert "我的员工" in page and "别人的员工" not in page
    assert client.get(f"/admin/institutions/employee/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/institutions/employee/{theirs.pk}/change/").status_code == 404
    resp = client.post(f"/admin/institutions/employee/{theirs.pk}/change/", {"name": "改"})
    assert resp.status_code == 404
    Employee.objects.get(pk=theirs.pk, name="别人的员工")


def test_filer_cannot_add_employee_to_other_institution(client, filer_a, two_institutions):
    b = two_institutions[1]
    client.force_login(filer_a)
    resp = client.post("/admin/institutions/employee/add/", {
        "institution": b.pk, "name": "偷加", "employee_no": "X1", "is_active": "on"})
    assert resp.status_code == 200  # form redisplayed with an error
    assert not Employee.objects.filter(name="偷加").exists()


def test_export_is_scoped(client, filer_a, two_institutions):
    client.force_login(filer_a)
    resp = client.post("/admin/institutions/institution/export/", {"format": "1", "resource": "0",
                                                                   "institutionresource_code": "on",
                                                                   "institutionresource_name": "on"})
    body = resp.content.decode("utf-8-sig")
    assert resp.status_code == 200 and "甲银行" in body and "乙保险" not in body
