"""Issue #11 item 2: names and codes that would run as spreadsheet formulas are refused on import
(command and admin, one validator), and the admin's exports write whatever is stored as inert text."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from institutions.models import Employee, Institution
from institutions.usc import make_usc_code
from tests.factories import EmployeeFactory, InstitutionFactory

pytestmark = pytest.mark.django_db

COLUMNS = ["code", "name", "short_name", "category", "usc_code", "district_code", "is_local_corporate"]
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3", "\t=1+1"]


def csv_bytes(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode()


def institution_row(n, code=None, name=None, short_name=""):
    return [code or f"N{n}", name or f"新机构{n}", short_name, "bank", make_usc_code(f"91331004MA10001{n:02d}"),
            "331004", "0"]


@pytest.mark.parametrize("column", ["code", "name", "short_name"])
def test_import_institutions_refuses_formula_values(tmp_path, capsys, column):
    rows = [institution_row(1)]  # a good row: the whole file is refused anyway
    for n, payload in enumerate(PAYLOADS, 2):
        rows.append(institution_row(n, **{column: payload}))
    path = tmp_path / "inst.csv"
    path.write_bytes(csv_bytes(COLUMNS, rows))
    with pytest.raises(CommandError):
        call_command("import_institutions", str(path))
    err = capsys.readouterr().err
    assert "第 2 行" not in err
    for line in range(3, 3 + len(PAYLOADS)):
        assert f"第 {line} 行" in err
    assert "开头" in err and "公式" in err
    assert not Institution.objects.exists()


def test_import_institutions_accepts_ordinary_names(tmp_path):
    path = tmp_path / "inst.csv"
    path.write_bytes(csv_bytes(COLUMNS, [institution_row(1, name="中国银行（台州路桥支行）=", short_name="中行")]))
    call_command("import_institutions", str(path))
    assert Institution.objects.get(code="N1").name == "中国银行（台州路桥支行）="


def test_import_institutions_refuses_formula_cells_in_xlsx(tmp_path, capsys):
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    book.active.append(institution_row(1, name="@SUM(A1)"))
    path = tmp_path / "inst.xlsx"
    book.save(path)
    with pytest.raises(CommandError):
        call_command("import_institutions", str(path))
    assert "机构名称不能以" in capsys.readouterr().err


def test_admin_institution_import_refuses_formula_names(client, finance_user):
    client.force_login(finance_user)
    resp = client.post("/admin/institutions/institution/import/", {
        "import_file": io.BytesIO(csv_bytes(COLUMNS, [institution_row(1, name="=1+1")])), "format": "1",
        "resource": "0"})
    assert resp.status_code == 200 and "机构名称不能以" in resp.content.decode()
    assert "confirm_form" not in (resp.context or {}) or resp.context["confirm_form"] is None
    assert not Institution.objects.exists()


def test_admin_employee_import_refuses_formula_names_allows_a_dash_department(client, two_institutions, filer_a):
    client.force_login(filer_a)
    header = ["institution_code", "employee_no", "name", "department", "position", "is_party_member", "is_active"]
    bad = csv_bytes(header, [["A001", "E1", "@SUM(A1)", "营业部", "柜员", "0", "1"],
                             ["A001", "E2", "李四", "=1+1", "柜员", "0", "1"],
                             ["A001", "-E3", "王五", "营业部", "柜员", "0", "1"]])
    page = client.post("/admin/institutions/employee/import/", {
        "import_file": io.BytesIO(bad), "format": "1", "resource": "0"}).content.decode()
    assert "姓名不能以" in page and "部门不能以" in page and "工号不能以" in page
    assert not Employee.objects.exists()
    good = csv_bytes(header, [["A001", "E4", "赵六", "-", "-", "0", "1"]])
    resp = client.post("/admin/institutions/employee/import/", {
        "import_file": io.BytesIO(good), "format": "1", "resource": "0"})
    resp = client.post("/admin/institutions/employee/process_import/", resp.context["confirm_form"].initial)
    assert resp.status_code == 302 and Employee.objects.get(employee_no="E4").department == "-"


def test_admin_exports_write_formula_names_as_text(client, finance_user):
    for n, payload in enumerate(PAYLOADS[:4], 1):
        institution = InstitutionFactory(code=f"F{n}", name=payload)
        EmployeeFactory(institution=institution, name=payload, employee_no=f"E{n}", department="-2+3")
    client.force_login(finance_user)
    fields = {"institutionresource_code": "on", "institutionresource_name": "on",
              "institutionresource_is_local_corporate": "on"}
    xlsx = client.post("/admin/institutions/institution/export/", {"format": "0", "resource": "0", **fields})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    name_col = header.index("name") + 1
    cells = [sheet.cell(row=r, column=name_col) for r in range(2, sheet.max_row + 1)]
    assert {c.value for c in cells} == {"'" + p for p in PAYLOADS[:4]}
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    text = client.post("/admin/institutions/institution/export/", {"format": "1", "resource": "0", **fields})
    rows = list(csv.DictReader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert {r["name"] for r in rows} == {"'" + p for p in PAYLOADS[:4]}
    employees = client.post("/admin/institutions/employee/export/", {
        "format": "1", "resource": "0", "employeeresource_name": "on", "employeeresource_department": "on"})
    rows = list(csv.DictReader(io.StringIO(employees.content.decode("utf-8-sig"))))
    assert {r["name"] for r in rows} == {"'" + p for p in PAYLOADS[:4]} and {r["department"] for r in rows} == {
        "'-2+3"}
