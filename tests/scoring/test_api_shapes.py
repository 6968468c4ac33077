"""Shapes of the read API (API.md "Norms and schemes", "Scores") and the exported files."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from scoring import services
from scoring.models import AggregationRun
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory
from tests.scoring.factories import luqiao

from .conftest import cents
from .factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet, set_year_status

pytestmark = pytest.mark.django_db

D = Decimal
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_norms_shape(scheme, finance):
    body = client_for(finance).get(f"/api/v1/norms/{scheme.year}/").json()
    assert body["year"] == scheme.year
    assert [(i["number"], i["title"]) for i in body["items"]] == [(1, "测试项目1"), (2, "测试项目2")]
    assert body["items"][0]["clauses"] == [{"number": "1.1", "title": "测试条款1.1"},
                                           {"number": "1.2", "title": "测试条款1.2"}]
    assert body["items"][1]["clauses"] == [{"number": "2.1", "title": "测试条款2.1"}]
    assert client_for(finance).get("/api/v1/norms/1999/").status_code == 404


def test_scheme_shape_with_decimals_as_strings(scheme, filer_a):
    body = client_for(filer_a).get(f"/api/v1/schemes/{scheme.year}/").json()
    assert body["year"] == scheme.year and body["status"] == "active"
    assert body["weights"] == {"self": "0.2", "inspection": "0.5", "third_party": "0.3"}
    assert body["bands"] == {"green": "90", "blue": "80", "yellow": "70"}
    assert (body["bonus_cap"], body["complaint_deduction"], body["complaint_deduction_cap"]) == ("10", "1", "5")
    assert body["linkage"] == {"green": "priority", "blue": "eligible", "yellow": "restricted", "red": "excluded"}
    slim = [{k: i[k] for k in ("code", "kind", "clause", "max_points", "title")} for i in body["indicators"]]
    assert slim == [
        {"code": "B1", "kind": "basic", "clause": "1.1", "max_points": "40", "title": "测试指标B1"},
        {"code": "B2", "kind": "basic", "clause": "1.2", "max_points": "40", "title": "测试指标B2"},
        {"code": "B3", "kind": "basic", "clause": "2.1", "max_points": "20", "title": "测试指标B3"},
        {"code": "X1", "kind": "bonus", "clause": None, "max_points": "6", "title": "测试指标X1"},
        {"code": "X2", "kind": "bonus", "clause": None, "max_points": "6", "title": "测试指标X2"},
        {"code": "R1", "kind": "red_line", "clause": None, "max_points": None, "title": "测试指标R1"},
    ]


def test_scheme_with_uncommon_parameters_keeps_them_exact(finance):
    build_scheme(2034, weight_self=D("0.25"), weight_inspection=D("0.45"), weight_third_party=D("0.3"),
                 bonus_cap=D("7.5"), complaint_deduction=D("0.5"), band_green=D("92.5"))
    body = client_for(finance).get("/api/v1/schemes/2034/").json()
    assert body["weights"] == {"self": "0.25", "inspection": "0.45", "third_party": "0.3"}
    assert (body["bonus_cap"], body["complaint_deduction"], body["bands"]["green"]) == ("7.5", "0.5", "92.5")


# --------------------------------------------------------------------------------------------
# Scores and exports


@pytest.fixture
def scored(scheme, finance):
    """Three institutions of two categories, one of each colour green / blue / red (red line)."""
    plans = {
        "G001": ("bank", WORKED_SHEETS),
        "U001": ("insurance", {s: {**v, "B1": v["B1"] - 8} for s, v in WORKED_SHEETS.items()}),
        "R001": ("bank", {**WORKED_SHEETS, "inspection": {**WORKED_SHEETS["inspection"], "R1": True}}),
    }
    for code, (category, sheets) in plans.items():
        assessment = assessment_for(InstitutionFactory(code=code, name=f"机构{code}", category=category), scheme)
        for source, values in sheets.items():
            fill_sheet(assessment, source, values)
    services.execute_run(AggregationRun.objects.create(year=scheme.year, district=luqiao()).pk)
    return scheme


def test_score_row_shape(scored, finance):
    body = client_for(finance).get(f"/api/v1/scores/?year={scored.year}").json()
    assert set(body) >= {"count", "next", "previous", "results"}
    rows = {r["institution"]["code"]: r for r in body["results"]}
    for row in rows.values():
        assert set(row) >= {"institution", "year", "basic", "bonus", "deduction", "total", "red_line", "colour",
                            "rank", "category_rank", "status", "sources", "linkage"}
        for field in ("basic", "bonus", "deduction", "total"):
            cents(row[field])
    assert (rows["G001"]["total"], rows["G001"]["colour"]) == ("98.00", "green")
    assert (rows["U001"]["basic"], rows["U001"]["total"], rows["U001"]["colour"]) == ("80.00", "90.00", "green")
    assert (rows["R001"]["colour"], rows["R001"]["red_line"], rows["R001"]["rank"]) == ("red", True, 3)
    assert client_for(finance).get(f"/api/v1/scores/?year={scored.year}&colour=red").json()["count"] == 1
    assert client_for(finance).get(f"/api/v1/scores/?year={scored.year}&colour=purple").status_code == 400


def test_score_detail_has_per_indicator_values(scored, finance):
    detail = client_for(finance).get(f"/api/v1/scores/{scored.year}/G001/").json()
    assert detail["total"] == "98.00"
    b1 = next(i for i in detail["indicators"] if i["code"] == "B1")
    assert b1["values"] == {"self": "40", "inspection": "36", "third_party": "38"} and b1["combined"] == "37.40"
    r1 = next(i for i in detail["indicators"] if i["code"] == "R1")
    assert r1["values"] == {"self": False, "inspection": False, "third_party": False}


def test_csv_export_has_a_header_and_one_row_per_institution(scored, finance):
    resp = client_for(finance).get(f"/api/v1/scores/export/?year={scored.year}&format=csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert f"clean-points-{scored.year}.csv" in resp["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["排名", "类别内排名", "机构编码"] and "总分" in header and "颜色" in header
    by_code = {r[2]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_code) == {"G001", "U001", "R001"}
    assert [r[2] for r in rows[1:]] == ["G001", "U001", "R001"]  # by rank
    assert (by_code["G001"]["总分"], by_code["G001"]["颜色"], by_code["G001"]["红线"]) == ("98.00", "绿", "否")
    red = by_code["R001"]
    assert (red["颜色"], red["红线"], red["财政性资金招投标"]) == ("红", "是", "禁入")
    assert by_code["G001"]["有效来源"] == "机构自评、检查组考评、第三方测评"


def test_xlsx_export_has_colour_filled_cells_and_the_institution_rows(scored, finance):
    resp = client_for(finance).get(f"/api/v1/scores/export/?year={scored.year}&format=xlsx")
    assert resp.status_code == 200 and resp["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in sheet[1]]
    code_col, total_col, colour_col = (header.index(h) + 1 for h in ("机构编码", "总分", "颜色"))
    rows = {sheet.cell(row=r, column=code_col).value: r for r in range(2, sheet.max_row + 1)}
    assert set(rows) == {"G001", "U001", "R001"}
    green, red = rows["G001"], rows["R001"]
    assert D(str(sheet.cell(row=green, column=total_col).value)) == D("98.00")
    assert sheet.cell(row=green, column=colour_col).value == "绿"
    assert sheet.cell(row=green, column=colour_col).fill.fgColor.rgb.endswith("C8E6C9")
    assert sheet.cell(row=green, column=total_col).fill.fgColor.rgb.endswith("C8E6C9")
    assert sheet.cell(row=red, column=colour_col).fill.fgColor.rgb.endswith("FFCDD2")
    assert sheet.cell(row=green, column=code_col).fill.fill_type is None  # only the score cells are filled


def test_export_is_scoped_to_the_caller(scored, inst_a, filer_a, api_client_user):
    from tests.factories import institution_user

    filer_g = institution_user(InstitutionFactory._meta.model.objects.get(code="G001"), "institution_filer",
                               username="filer_g")
    set_year_status(scored.year, "notice")  # an institution sees its own row from the notice period on
    sheet = openpyxl.load_workbook(io.BytesIO(client_for(filer_g).get(
        f"/api/v1/scores/export/?year={scored.year}&format=xlsx").content)).active
    assert sheet.max_row == 2 and sheet.cell(row=2, column=3).value == "G001"
    # A has no result this year; the API client sees only published years.
    for user in (filer_a, api_client_user):
        text = client_for(user).get(f"/api/v1/scores/export/?year={scored.year}&format=csv").content.decode(
            "utf-8-sig")
        assert len(list(csv.reader(io.StringIO(text)))) == 1
    finance = UserFactory(roles=["finance_center"], username="fc_export")
    services.publish_year(services.district_year(luqiao(), scored.year), finance)
    text = client_for(api_client_user).get(f"/api/v1/scores/export/?year={scored.year}&format=csv").content.decode(
        "utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 4


def test_export_refuses_bad_parameters(scored, finance):
    client = client_for(finance)
    assert client.get("/api/v1/scores/export/?format=csv").status_code == 400
    bad = client.get(f"/api/v1/scores/export/?year={scored.year}&format=pdf")
    assert bad.status_code == 400 and "xlsx" in str(bad.json())
