"""The results' xlsx export is linear: it never reads the sheet's size back per row (issue 16:
`ws.max_row` per row made the province's 5,000 rows take 9 s)."""

from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace
from unittest import mock

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from scoring.exports import results_xlsx


def _result(i, colour):
    return SimpleNamespace(
        rank=i, category_rank=i, total=Decimal("90.5"), basic=Decimal("80"), bonus=Decimal("12"),
        deduction=Decimal("1.5"), red_line=False, colour=colour, status="published", sources=["self"],
        fiscal_tender="eligible",
        institution=SimpleNamespace(code=f"I{i:05d}", name=f"=机构{i}", get_category_display=lambda: "银行"))


def test_xlsx_export_never_scans_the_sheet_per_row():
    colours = ["green", "blue", "yellow", "red"]
    results = [_result(i, colours[i % 4]) for i in range(1, 401)]
    reads = []
    real = Worksheet.max_row.fget

    def counting(ws):
        reads.append(1)
        return real(ws)

    with mock.patch.object(Worksheet, "max_row", property(counting)):
        data = results_xlsx(results, 2026)
    # Saving reads the dimensions a few times; a read per row (400) would be quadratic work.
    assert len(reads) < 20

    ws = load_workbook(BytesIO(data)).active
    assert ws.max_row == 401
    assert ws.cell(row=2, column=3).value == "I00001"
    assert ws.cell(row=401, column=3).value == "I00400"
    # Each row's colour and total cells are filled with that row's own colour.
    colour_col, total_col = 11, 9
    for row, result in ((2, results[0]), (3, results[1]), (401, results[-1])):
        expected = {"green": "C8E6C9", "blue": "BBDEFB", "yellow": "FFF59D", "red": "FFCDD2"}[result.colour]
        assert ws.cell(row=row, column=colour_col).fill.fgColor.rgb.endswith(expected)
        assert ws.cell(row=row, column=total_col).fill.fgColor.rgb.endswith(expected)
    # Formula-like names stay inert text (core.exports).
    assert ws.cell(row=2, column=4).value == "'=机构1"
