"""The ledger's xlsx export (issue #16 item 7): same headers and rows, formula injection neutralised,
a number of queries that does not grow with the activities (read in chunks of 500)."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from activities.models import Activity

from .conftest import YEAR, client_for, make_activity

pytestmark = pytest.mark.django_db

HEADERS = ("机构编码", "机构", "区县", "日期", "类型", "类别", "活动名称", "地点", "组织者", "参加人数", "对应条款",
           "附件数", "活动内容")


def _rows(client, query=""):
    r = client.get("/activities/ledger/export.xlsx" + query)
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="activities.xlsx"'
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["活动台账"]
    return list(book.active.iter_rows(values_only=True))


def test_headers_rows_and_formulas(w, kinds):
    first = make_activity(w, kinds, title="=HYPERLINK(\"x\")", held_on=dt.date(YEAR, 3, 2))
    first.clauses.add(w.clauses["2.1"])
    Activity.objects.filter(pk=first.pk).update(place="@SUM(A1)", organiser="办公室", description="+1 内容")
    make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙的活动", clause=None, held_on=dt.date(YEAR, 5, 6))
    make_activity(w, kinds, inst=w.c, user=w.filer_c, title="椒江活动", clause=None)
    rows = _rows(client_for(w.fc), f"?year={YEAR}")
    kind = kinds["lq"]
    assert rows[0] == HEADERS
    assert rows[1:] == [
        ("B001", "乙保险", w.b.district.name, dt.datetime(YEAR, 5, 6), kind.name, kind.get_category_display(),
         "乙的活动", None, None, 12, None, 0, None),
        ("A001", "甲银行", w.a.district.name, dt.datetime(YEAR, 3, 2), kind.name, kind.get_category_display(),
         "'=HYPERLINK(\"x\")", "'@SUM(A1)", "办公室", 12, "1.1、2.1", 0, "'+1 内容"),
    ]
    sheet = load_workbook(io.BytesIO(client_for(w.fc).get("/activities/ledger/export.xlsx").content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.cell(row=2, column=4).is_date


def _add(w, kinds, n):
    clause = w.clauses["1.1"]
    made = Activity.objects.bulk_create(
        Activity(institution=w.a, kind=kinds["lq"], title=f"活动{i}", held_on=dt.date(YEAR, 1 + i % 12, 1), year=YEAR,
                 participant_count=i) for i in range(n))
    Activity.clauses.through.objects.bulk_create(
        Activity.clauses.through(activity_id=a.pk, normclause_id=clause.pk) for a in made)


def test_queries_do_not_grow_with_rows(w, kinds, django_assert_max_num_queries):
    client = client_for(w.fc)
    _add(w, kinds, 10)
    client.get("/activities/ledger/export.xlsx")  # the session and the catalogue warmed
    with CaptureQueriesContext(connection) as ten:
        assert len(_rows(client)) == 11
    _add(w, kinds, 190)
    with django_assert_max_num_queries(len(ten.captured_queries)):
        rows = _rows(client)
    assert len(rows) == 201
    assert {row[10] for row in rows[1:]} == {"1.1"}
