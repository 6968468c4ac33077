"""core.exports: the one helper every xlsx and csv goes through (issue #11 item 2, OWASP CSV injection)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from core.exports import append_row, csv_writer, neutralise, refuse_formula, safe_value, unquote, write_cell

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_starts_are_quoted(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", ["甲银行", "a=b", "-2", "+1.5", "3.14", "", "'already"])
def test_ordinary_text_and_plain_numbers_are_kept(text):
    assert neutralise(text) == text


def test_control_characters_openpyxl_refuses_are_stripped():
    assert neutralise("警\x00示\x07标\x1f题\n第二行") == "警示标题\n第二行"
    assert neutralise("\x01=1+1") == "'=1+1"  # stripping cannot uncover a formula


def test_numbers_dates_and_none_stay_native():
    for value in (1, 2.5, Decimal("-3.25"), True, dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3, 4), None):
        assert safe_value(value) is value
    assert safe_value(Decimal) == "<class 'decimal.Decimal'>"  # anything else as text


def test_xlsx_cells_are_strings_never_formulas_and_numbers_stay_numbers():
    book = Workbook()
    ws = book.active
    append_row(ws, ["名称", "分数", "日期"])
    for payload in PAYLOADS:
        append_row(ws, [payload + "\x02", Decimal("-2.5"), dt.date(2026, 1, 2)])
    write_cell(ws, 1, 5, "=SUM(B:B)")
    out = io.BytesIO()
    book.save(out)
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    assert ws["E1"].value == "'=SUM(B:B)" and ws["E1"].data_type == "s"
    for row in ws.iter_rows(min_row=2, max_col=3):
        name, score, day = row
        assert name.data_type == "s" and name.value.startswith("'") and "\x02" not in name.value
        assert score.data_type == "n" and score.value == -2.5
        assert day.is_date
    assert [c.value for c in ws[1]][:3] == ["名称", "分数", "日期"]


def test_csv_writer_neutralises_text_not_numbers():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["=1+1", -2, Decimal("-2.50"), "-2", "甲"])
    writer.writerows([["@SUM(A1)", 1]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=1+1", "-2", "-2.50", "-2", "甲"], ["'@SUM(A1)", "1"]]


@pytest.mark.parametrize("payload", ["=1", "+1", "-1", "@a", "\t=1", "\r=1", "  =1"])
def test_refuse_formula(payload):
    with pytest.raises(ValidationError, match="机构名称不能以"):
        refuse_formula(payload, "机构名称")


def test_refuse_formula_lets_ordinary_values_and_a_free_text_dash_through():
    refuse_formula("甲银行", "机构名称")
    refuse_formula("a-b=c", "机构名称")
    refuse_formula(None, "机构名称")
    refuse_formula("-", "部门", allow_minus=True)
    with pytest.raises(ValidationError):
        refuse_formula("=1", "部门", allow_minus=True)


def test_unquote_reverses_neutralise_only():
    for payload in PAYLOADS:
        assert unquote(neutralise(payload)) == payload
    assert unquote("'quoted") == "'quoted" and unquote("甲") == "甲"
