"""Issue #11 item 2: institution names that look like formulas are exported as inert text; scores stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from scoring import selectors, services, sheet_files
from scoring.models import AggregationRun, SheetEntry
from tests.conftest import client_for
from tests.factories import InstitutionFactory

from .factories import WORKED_SHEETS, assessment_for, fill_sheet, luqiao

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3"]


@pytest.fixture
def hostile(scheme, finance):
    """Four institutions whose names are formula payloads, scored."""
    assessments = []
    for n, name in enumerate(PAYLOADS, 1):
        assessment = assessment_for(InstitutionFactory(code=f"F00{n}", name=name, category="bank"), scheme)
        for source, values in WORKED_SHEETS.items():
            fill_sheet(assessment, source, values)
        assessments.append(assessment)
    services.execute_run(AggregationRun.objects.create(year=scheme.year, district=luqiao()).pk)
    return scheme, assessments


def test_scores_xlsx_writes_formula_names_as_text_and_scores_as_numbers(hostile, finance):
    scheme, _ = hostile
    resp = client_for(finance).get(f"/api/v1/scores/export/?year={scheme.year}&format=xlsx")
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    header = [c.value for c in sheet[1]]
    name_col, total_col, rank_col = (header.index(h) + 1 for h in ("机构名称", "总分", "排名"))
    names = set()
    for row in range(2, sheet.max_row + 1):
        cell = sheet.cell(row=row, column=name_col)
        assert cell.data_type == "s" and cell.value.startswith("'"), cell.value
        names.add(cell.value)
        total = sheet.cell(row=row, column=total_col)
        assert total.data_type == "n" and Decimal(str(total.value)) > 0
        assert isinstance(sheet.cell(row=row, column=rank_col).value, int)
    assert names == {"'" + p for p in PAYLOADS}
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)


def test_scores_csv_neutralises_formula_names(hostile, finance):
    scheme, _ = hostile
    resp = client_for(finance).get(f"/api/v1/scores/export/?year={scheme.year}&format=csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    col = rows[0].index("机构名称")
    assert {r[col] for r in rows[1:]} == {"'" + p for p in PAYLOADS}
    total = rows[0].index("总分")
    assert all(Decimal(r[total]) > 0 for r in rows[1:])  # numbers are not quoted


def test_sheet_template_writes_names_and_notes_as_text(hostile):
    _, assessments = hostile
    assessment = assessments[0]
    SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source="self").update(note="@SUM(A1)")
    indicators = selectors.indicators_with_entries(assessment, ["self"])
    book = openpyxl.load_workbook(io.BytesIO(sheet_files.template_xlsx(assessment, "self", indicators)))
    cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert not any(c.data_type == "f" for c in cells)
    info = book["说明"]["A1"].value
    assert info.startswith("'=HYPERLINK")
    ws = book["测评表"]
    notes = [ws.cell(row=r, column=8).value for r in range(3, ws.max_row + 1)]
    assert "'@SUM(A1)" in notes
    values = [ws.cell(row=r, column=7) for r in range(3, ws.max_row + 1)]
    assert any(c.data_type == "n" and c.value is not None for c in values)  # pre-filled points stay numbers


def test_a_quoted_note_reads_back_as_written(hostile):
    _, assessments = hostile
    assessment = assessments[0]
    SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source="self").update(note="@SUM(A1)")
    indicators = selectors.indicators_with_entries(assessment, ["self"])
    data = sheet_files.template_xlsx(assessment, "self", indicators)
    notes = {note for _, _, _, note in sheet_files.read_filled(data, "filled.xlsx")}
    assert notes == {"@SUM(A1)"}  # not "'@SUM(A1)": the quote does not pile up on each round trip
