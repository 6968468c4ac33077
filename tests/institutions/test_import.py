import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from institutions.models import Employee, Institution
from institutions.usc import make_usc_code
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db

HEADER = "code,name,short_name,category,usc_code,district_code,is_local_corporate\n"
GOOD1 = make_usc_code("91331004MA1000001")
GOOD2 = make_usc_code("91331004MA1000002")
BAD_CHECK = GOOD1[:17] + ("0" if GOOD1[17] != "0" else "1")


def write(tmp_path, text, name="inst.csv", bom=False):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return str(path)


def test_good_csv_with_bom_creates_then_updates(tmp_path):
    rows = f"N1,新机构一,新一,bank,{GOOD1},331004,1\nN2,新机构二,,insurance,{GOOD2},331002,0\n"
    path = write(tmp_path, HEADER + rows, bom=True)
    call_command("import_institutions", path)
    assert Institution.objects.get(code="N1").is_local_corporate is True
    assert Institution.objects.get(code="N2").district.code == "331002"
    path = write(tmp_path, HEADER + f"N1,新机构一（更名）,新一,bank,{GOOD1},331004,1\n")
    call_command("import_institutions", path)
    assert Institution.objects.get(code="N1").name == "新机构一（更名）"
    assert Institution.objects.count() == 2


def test_any_bad_row_imports_nothing_and_every_bad_row_is_reported(tmp_path, capsys):
    InstitutionFactory(code="OLD", usc_code=make_usc_code("91331004MA1000009"))
    rows = [
        f"N1,好机构,,bank,{GOOD1},331004,0",             # line 2 fine
        f"N2,坏校验位,,bank,{BAD_CHECK},331004,0",         # line 3
        f"N3,坏类别,,casino,{make_usc_code('91331004MA1000003')},331004,0",  # line 4
        f"N4,,,bank,{make_usc_code('91331004MA1000004')},331004,0",  # line 5 missing name
        f"N5,重复一,,bank,{make_usc_code('91331004MA1000005')},331004,0",  # line 6 duplicate code
        f"N5,重复二,,bank,{make_usc_code('91331004MA1000006')},331004,0",  # line 7
        f"N6,未知区划,,bank,{make_usc_code('91331004MA1000007')},999999,0",  # line 8
    ]
    path = write(tmp_path, HEADER + "\n".join(rows) + "\n")
    with pytest.raises(CommandError):
        call_command("import_institutions", path)
    err = capsys.readouterr().err
    assert "第 2 行" not in err
    assert "第 3 行" in err and "校验位错误" in err
    assert "第 4 行" in err and "casino" in err
    assert "第 5 行" in err
    assert "第 6 行" in err and "第 7 行" in err and "重复" in err
    assert "第 8 行" in err and "999999" in err
    assert list(Institution.objects.values_list("code", flat=True)) == ["OLD"]


def test_xlsx_is_read_like_csv(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["X1", "表格机构", "表格", "银行", GOOD1, 331004, 1])  # Chinese label, numeric cells
    path = tmp_path / "inst.xlsx"
    wb.save(path)
    call_command("import_institutions", str(path))
    inst = Institution.objects.get(code="X1")
    assert inst.category == "bank" and inst.district.code == "331004"


def test_missing_columns_and_unknown_format(tmp_path):
    with pytest.raises(CommandError, match="缺少列"):
        call_command("import_institutions", write(tmp_path, "code,name\nA,B\n"))
    with pytest.raises(CommandError, match="不支持的文件类型"):
        call_command("import_institutions", write(tmp_path, "x", name="a.pdf"))
    assert not Institution.objects.exists()


def test_admin_import_preview_lists_bad_rows_and_stores_nothing(client, finance_user):
    client.force_login(finance_user)
    csv = (HEADER + f"N1,好机构,,bank,{GOOD1},331004,0\nN2,坏,,bank,{BAD_CHECK},331004,0\n").encode()
    resp = client.post("/admin/institutions/institution/import/", {
        "import_file": io.BytesIO(csv), "format": "1", "resource": "0",
    }, format="multipart")
    page = resp.content.decode()
    assert resp.status_code == 200
    assert "校验位错误" in page
    assert not Institution.objects.filter(code__in=["N1", "N2"]).exists()


def test_admin_import_good_file_confirms(client, finance_user):
    client.force_login(finance_user)
    csv = (HEADER + f"N1,好机构,,bank,{GOOD1},331004,0\n").encode()
    resp = client.post("/admin/institutions/institution/import/", {
        "import_file": io.BytesIO(csv), "format": "1", "resource": "0",
    })
    assert resp.status_code == 200 and "好机构" in resp.content.decode()
    assert not Institution.objects.filter(code="N1").exists()  # preview only
    form = resp.context["confirm_form"]
    resp = client.post("/admin/institutions/institution/process_import/", form.initial)
    assert resp.status_code == 302
    assert Institution.objects.filter(code="N1").exists()


def test_employee_import_bad_rows_store_nothing(client, two_institutions, filer_a):
    client.force_login(filer_a)
    csv = ("institution_code,employee_no,name,department,position,is_party_member,is_active\n"
           "A001,E1,张三,营业部,柜员,1,1\n"
           "B001,E2,李四,营业部,柜员,0,1\n"  # another institution: not the filer's
           "A001,E3,,营业部,柜员,2,1\n").encode()
    resp = client.post("/admin/institutions/employee/import/", {
        "import_file": io.BytesIO(csv), "format": "1", "resource": "0",
    })
    page = resp.content.decode()
    assert "未知机构编码 B001" in page
    assert not Employee.objects.exists()
