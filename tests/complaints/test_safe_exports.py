"""Issue #11 item 2: the statistics export and the survey-link csv write formula-like names as inert text."""

import csv
import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.complaints.helpers import submit_case
from tests.factories import InstitutionFactory, institution_user

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3"]


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def hostile(db):
    banks = [InstitutionFactory(code=f"LQ-F0{n}", name=name) for n, name in enumerate(PAYLOADS, 1)]
    for bank in banks:
        submit_case(bank, kind="report")
        submit_case(bank, kind="rating", description="", ratings={"attitude": 5, "efficiency": 4})
    return banks


def test_statistics_xlsx_has_no_formula_and_keeps_numbers(fc, hostile):
    xlsx = logged_in(fc).get("/complaints/stats/export/", {"format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
    assert not any(c.data_type == "f" for c in cells)
    by_inst = book["按机构"]
    names = {by_inst.cell(row=r, column=2).value for r in range(2, by_inst.max_row + 1)}
    assert names == {"'" + p for p in PAYLOADS}
    assert all(by_inst.cell(row=r, column=2).data_type == "s" for r in range(2, by_inst.max_row + 1))
    totals = [by_inst.cell(row=r, column=3) for r in range(2, by_inst.max_row + 1)]
    assert all(c.data_type == "n" and c.value == 2 for c in totals)
    sat = book["满意率（机构×月）"]
    assert {sat.cell(row=r, column=2).value for r in range(2, sat.max_row + 1)} == {"'" + p for p in PAYLOADS}


def test_statistics_csv_neutralises_names(fc, hostile):
    resp = logged_in(fc).get("/complaints/stats/export/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert {r[1] for r in rows[1:]} == {"'" + p for p in PAYLOADS}
    assert {r[2] for r in rows[1:]} == {"2"}


def test_survey_links_csv_neutralises_the_institution_name(hostile):
    bank = hostile[0]
    head = institution_user(bank, "institution_head", username="head-f")
    resp = logged_in(head).post("/complaints/survey-links/", {"institution": bank.code, "count": "2"})
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["'" + PAYLOADS[0]] * 2
    assert [r[0] for r in rows[1:]] == ["1", "2"]
