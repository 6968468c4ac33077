"""The statistics' xlsx export (issue #16 item 7), written in openpyxl's write-only mode: the same sheets,
bold headers and rows as the selectors give, formulas neutralised, and a number of queries that does
not grow with the institutions listed."""

import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from complaints import exports, selectors
from tests.complaints.helpers import submit_case
from tests.factories import InstitutionFactory

pytestmark = pytest.mark.django_db


def _banks(start, n):
    for k in range(start, start + n):
        bank = InstitutionFactory(code=f"LQ-S{k:04d}", name="=1+1" if k == 0 else f"银行{k}")
        submit_case(bank, kind="report")
        submit_case(bank, kind="rating", description="", ratings={"attitude": 5, "efficiency": 2 + k % 4})


def _book(client):
    r = client.get("/complaints/stats/export/", {"format": "xlsx"})
    assert r.status_code == 200
    return load_workbook(io.BytesIO(r.content))


def test_sheets_headers_and_rows(fc):
    _banks(0, 3)
    client = Client()
    client.force_login(fc)
    book = _book(client)
    assert book.sheetnames == ["概览", "按机构", "按月份", "满意率（机构×月）"]
    for ws in book.worksheets:
        assert all(cell.font.b for cell in ws[1])
        assert not any(cell.font.b for row in ws.iter_rows(min_row=2) for cell in row)
        assert not any(cell.data_type == "f" for row in ws.iter_rows() for cell in row)
    year = timezone.localdate().year
    stats = selectors.statistics(year)
    by_inst = list(book["按机构"].iter_rows(values_only=True))
    assert by_inst[0] == tuple(str(label) for _key, label in exports.INSTITUTION_COLUMNS)
    expected = [tuple(None if v == "" else v for v in row) for row in exports.institution_rows(stats)]
    expected[0] = (expected[0][0], "'=1+1", *expected[0][2:])
    assert by_inst[1:] == expected
    assert [r[0] for r in by_inst[1:]] == ["LQ-S0000", "LQ-S0001", "LQ-S0002"]
    summary = list(book["概览"].iter_rows(values_only=True))
    assert summary == [tuple(None if v == "" else v for v in row) for row in exports.summary_rows(stats)]
    months = list(book["按月份"].iter_rows(values_only=True))
    assert len(months) == 13 and sum(r[1] for r in months[1:]) == 6
    sat = list(book["满意率（机构×月）"].iter_rows(values_only=True))
    assert [r[:2] for r in sat[1:]] == [("LQ-S0000", "'=1+1"), ("LQ-S0001", "银行1"), ("LQ-S0002", "银行2")]


def test_queries_do_not_grow_with_institutions(fc, django_assert_max_num_queries):
    client = Client()
    client.force_login(fc)
    _banks(0, 10)
    _book(client)  # the session and settings warmed
    with CaptureQueriesContext(connection) as ten:
        assert book_rows(_book(client)) == 10
    _banks(10, 190)
    with django_assert_max_num_queries(len(ten.captured_queries)):
        book = _book(client)
    assert book_rows(book) == 200


def book_rows(book):
    return book["按机构"].max_row - 1
